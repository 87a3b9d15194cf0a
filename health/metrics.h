// The Prometheus text exposition format (version 0.0.4), written by hand:
// what /metrics serves and `promtool check metrics` accepts.
//
// A page is a list of families. A family has a name, a type and a help text
// (one "# HELP" and one "# TYPE" line), then its samples, each with optional
// labels. MetricsWriter keeps a family's lines together and escapes label
// values and help text as the format requires; Histogram accumulates
// observations into cumulative buckets.
//
// Names are the caller's constants. A metric or label name the format would
// reject is dropped with its samples rather than written, so one typo cannot
// make the whole page unparseable for the scraper (the unit tests check the
// names we use). Not thread-safe; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tazpod::health {

enum class MetricType { kCounter, kGauge, kHistogram };

// Label name and value pairs, written in this order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Observations counted into fixed buckets, as a Prometheus histogram.
class Histogram {
 public:
  // `upper_bounds`: the buckets' inclusive upper bounds, ascending; the +Inf
  // bucket is implied. Unsorted or repeated bounds are sorted and merged.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations <= upper_bounds()[i], cumulative, as the format wants them.
  std::uint64_t CumulativeCount(std::size_t bucket) const;
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> per_bucket_;  // not cumulative; one more than bounds_ (+Inf)
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class MetricsWriter {
 public:
  // Starts a family: writes its HELP and TYPE lines. The samples written
  // next belong to it. Counter names should end in "_total".
  void Family(std::string_view name, MetricType type, std::string_view help);

  // One sample of the current counter or gauge family.
  void Sample(double value, const Labels& labels = {});

  // The _bucket, _sum and _count samples of the current histogram family.
  void HistogramSamples(const Histogram& histogram, const Labels& labels = {});

  // A family with a single unlabelled sample.
  void Counter(std::string_view name, std::string_view help, double value);
  void Gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return text_; }

 private:
  void WriteSample(std::string_view suffix, const Labels& labels, std::string_view extra_label_value,
                   double value);

  std::string text_;
  std::string family_;  // empty when no family, or the current one was dropped
  MetricType type_ = MetricType::kGauge;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved).
bool IsValidLabelName(std::string_view name);

// Backslash, double quote and newline escaped, for inside "…".
std::string EscapeLabelValue(std::string_view value);
// Backslash and newline escaped, for a HELP line.
std::string EscapeHelp(std::string_view help);
// "NaN", "+Inf", "-Inf", integers without a fraction or exponent, others in
// the shortest form that reads back exactly.
std::string FormatValue(double value);

}  // namespace tazpod::health
