// The Prometheus text format as MetricsWriter writes it: one HELP and one
// TYPE line per family, samples after them, escaping where the format wants
// it, cumulative histogram buckets, and names the format would reject left
// out rather than written.
#include "health/metrics.h"

#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>

using tazpod::health::EscapeHelp;
using tazpod::health::EscapeLabelValue;
using tazpod::health::FormatValue;
using tazpod::health::Histogram;
using tazpod::health::IsValidLabelName;
using tazpod::health::IsValidMetricName;
using tazpod::health::MetricsWriter;
using tazpod::health::MetricType;

TEST_CASE("metrics: a counter family is HELP, TYPE, then its samples") {
  MetricsWriter w;
  w.Family("tazpod_logins_total", MetricType::kCounter, "Login attempts by result.");
  w.Sample(3, {{"result", "ok"}});
  w.Sample(1, {{"result", "refused"}});
  CHECK(w.text() ==
        "# HELP tazpod_logins_total Login attempts by result.\n"
        "# TYPE tazpod_logins_total counter\n"
        "tazpod_logins_total{result=\"ok\"} 3\n"
        "tazpod_logins_total{result=\"refused\"} 1\n");
}

TEST_CASE("metrics: a gauge without labels has no braces") {
  MetricsWriter w;
  w.Gauge("tazpod_sessions", "Open gated sessions.", 2);
  CHECK(w.text() == "# HELP tazpod_sessions Open gated sessions.\n# TYPE tazpod_sessions gauge\ntazpod_sessions 2\n");
}

TEST_CASE("metrics: label values escape backslash, double quote and newline") {
  CHECK(EscapeLabelValue("plain") == "plain");
  CHECK(EscapeLabelValue("a\\b") == "a\\\\b");
  CHECK(EscapeLabelValue("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(EscapeLabelValue("two\nlines") == "two\\nlines");
  MetricsWriter w;
  w.Family("x", MetricType::kGauge, "h");
  w.Sample(1, {{"reason", "disk \"full\"\n\\o/"}, {"b", ""}});
  CHECK(w.text().ends_with("x{reason=\"disk \\\"full\\\"\\n\\\\o/\",b=\"\"} 1\n"));
}

TEST_CASE("metrics: help text escapes backslash and newline but not quotes") {
  CHECK(EscapeHelp("a \"b\"\nc\\d") == "a \"b\"\\nc\\\\d");
}

TEST_CASE("metrics: values are integers when whole, special values by their names") {
  CHECK(FormatValue(0) == "0");
  CHECK(FormatValue(42) == "42");
  CHECK(FormatValue(-7) == "-7");
  CHECK(FormatValue(1.5) == "1.5");
  CHECK(FormatValue(0.1) == "0.1");
  CHECK(FormatValue(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(FormatValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatValue(1e300) == "1e+300");
}

TEST_CASE("metrics: a histogram writes cumulative buckets, +Inf, sum and count") {
  Histogram h({1, 0.5, 5, 1});  // unsorted and repeated on purpose
  REQUIRE(h.upper_bounds() == std::vector<double>{0.5, 1, 5});
  h.Observe(0.25);
  h.Observe(0.5);  // on a bound: counted in that bucket (le = less or equal)
  h.Observe(3);
  h.Observe(100);
  CHECK(h.CumulativeCount(0) == 2);
  CHECK(h.CumulativeCount(1) == 2);
  CHECK(h.CumulativeCount(2) == 3);
  CHECK(h.count() == 4);
  MetricsWriter w;
  w.Family("tazpod_vault_unlock_duration_seconds", MetricType::kHistogram, "Duration of vault unlocks.");
  w.HistogramSamples(h);
  CHECK(w.text() ==
        "# HELP tazpod_vault_unlock_duration_seconds Duration of vault unlocks.\n"
        "# TYPE tazpod_vault_unlock_duration_seconds histogram\n"
        "tazpod_vault_unlock_duration_seconds_bucket{le=\"0.5\"} 2\n"
        "tazpod_vault_unlock_duration_seconds_bucket{le=\"1\"} 2\n"
        "tazpod_vault_unlock_duration_seconds_bucket{le=\"5\"} 3\n"
        "tazpod_vault_unlock_duration_seconds_bucket{le=\"+Inf\"} 4\n"
        "tazpod_vault_unlock_duration_seconds_sum 103.75\n"
        "tazpod_vault_unlock_duration_seconds_count 4\n");
}

TEST_CASE("metrics: histogram labels come before le") {
  Histogram h({1});
  h.Observe(2);
  MetricsWriter w;
  w.Family("d", MetricType::kHistogram, "h");
  w.HistogramSamples(h, {{"op", "unlock"}});
  CHECK(w.text().find("d_bucket{op=\"unlock\",le=\"1\"} 0\n") != std::string::npos);
  CHECK(w.text().find("d_bucket{op=\"unlock\",le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(w.text().find("d_count{op=\"unlock\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: names the format rejects are left out with their samples") {
  CHECK(IsValidMetricName("tazpod_up"));
  CHECK(IsValidMetricName(":recording:rule"));
  CHECK_FALSE(IsValidMetricName(""));
  CHECK_FALSE(IsValidMetricName("1abc"));
  CHECK_FALSE(IsValidMetricName("has-dash"));
  CHECK_FALSE(IsValidMetricName("has space"));
  CHECK(IsValidLabelName("result"));
  CHECK_FALSE(IsValidLabelName("__reserved"));
  CHECK_FALSE(IsValidLabelName("a:b"));
  CHECK_FALSE(IsValidLabelName("9a"));

  MetricsWriter w;
  w.Family("bad-name", MetricType::kGauge, "dropped");
  w.Sample(1);
  w.Gauge("good", "kept", 1);
  w.Family("labelled", MetricType::kGauge, "h");
  w.Sample(1, {{"bad-label", "x"}});
  w.Sample(2, {{"ok", "x"}});
  CHECK(w.text() ==
        "# HELP good kept\n# TYPE good gauge\ngood 1\n"
        "# HELP labelled h\n# TYPE labelled gauge\nlabelled{ok=\"x\"} 2\n");
}

TEST_CASE("metrics: a sample of the wrong kind for its family is not written") {
  MetricsWriter w;
  w.Family("g", MetricType::kGauge, "h");
  w.HistogramSamples(Histogram({1}));
  w.Family("h", MetricType::kHistogram, "h");
  w.Sample(1);
  CHECK(w.text() == "# HELP g h\n# TYPE g gauge\n# HELP h h\n# TYPE h histogram\n");
}
