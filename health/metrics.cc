#include "health/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tazpod::health {

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  // +Inf is implied; a NaN bound would make "le" unreadable.
  std::erase_if(bounds_, [](double b) { return std::isnan(b) || std::isinf(b); });
  per_bucket_.assign(bounds_.size() + 1, 0);
}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++per_bucket_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

std::uint64_t Histogram::CumulativeCount(std::size_t bucket) const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bucket && i < per_bucket_.size(); ++i) total += per_bucket_[i];
  return total;
}

void MetricsWriter::Family(std::string_view name, MetricType type, std::string_view help) {
  family_.clear();
  if (!IsValidMetricName(name)) return;
  family_ = name;
  type_ = type;
  text_ += "# HELP " + family_ + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + family_ + " " + std::string(TypeName(type)) + "\n";
}

void MetricsWriter::Sample(double value, const Labels& labels) {
  if (family_.empty() || type_ == MetricType::kHistogram) return;
  WriteSample("", labels, "", value);
}

void MetricsWriter::HistogramSamples(const Histogram& histogram, const Labels& labels) {
  if (family_.empty() || type_ != MetricType::kHistogram) return;
  const auto& bounds = histogram.upper_bounds();
  for (std::size_t i = 0; i < bounds.size(); ++i)
    WriteSample("_bucket", labels, FormatValue(bounds[i]), static_cast<double>(histogram.CumulativeCount(i)));
  WriteSample("_bucket", labels, "+Inf", static_cast<double>(histogram.count()));
  WriteSample("_sum", labels, "", histogram.sum());
  WriteSample("_count", labels, "", static_cast<double>(histogram.count()));
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, double value) {
  Family(name, MetricType::kCounter, help);
  Sample(value);
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, MetricType::kGauge, help);
  Sample(value);
}

// `extra_label_value`, when not empty, is the value of a trailing "le" label.
void MetricsWriter::WriteSample(std::string_view suffix, const Labels& labels,
                                std::string_view extra_label_value, double value) {
  for (const auto& [name, ignored] : labels)
    if (!IsValidLabelName(name) || name == "le") return;
  std::string line = family_;
  line += suffix;
  if (!labels.empty() || !extra_label_value.empty()) {
    line += '{';
    bool first = true;
    for (const auto& [name, label_value] : labels) {
      if (!first) line += ',';
      first = false;
      line += name + "=\"" + EscapeLabelValue(label_value) + "\"";
    }
    if (!extra_label_value.empty()) {
      if (!first) line += ',';
      line += "le=\"" + std::string(extra_label_value) + "\"";
    }
    line += '}';
  }
  line += ' ';
  line += FormatValue(value);
  line += '\n';
  text_ += line;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameStart(c) || IsDigit(c); });
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counters are whole numbers; print them as such up to 2^53, past which a
  // double no longer holds every integer anyway.
  // (A cast, not std::trunc: tazpod links without libm, docs/benchmarks.md.)
  if (std::fabs(value) < 9007199254740992.0 && value == static_cast<double>(static_cast<long long>(value)))
    return std::to_string(static_cast<long long>(value));
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace tazpod::health
