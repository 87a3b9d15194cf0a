// The health rules on hand-made snapshots: what makes PID 1 unhealthy or not
// ready (and the reason it says), and that /status and /metrics are well
// formed and never carry more than the snapshot.
#include "health/health_model.h"

#include <catch2/catch_test_macros.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using tazpod::health::HealthPolicy;
using tazpod::health::HealthSnapshot;
using tazpod::health::Liveness;
using tazpod::health::MetricsText;
using tazpod::health::Readiness;
using tazpod::health::StatusJson;

namespace {

// A container at rest: vault locked, two components running, one session.
HealthSnapshot Calm() {
  HealthSnapshot s;
  s.now = std::chrono::steady_clock::time_point(1000s);
  s.uptime = 42500ms;
  s.version = "0.1.0";
  s.components = {{"reaper", "running", false, ""}, {"control_socket", "listening", false, ""}};
  s.vault_state = "locked";
  s.vault_state_names = {"absent", "unlocking", "unlocked", "locking", "locked", "failed"};
  s.sessions = 1;
  return s;
}

// Checks the lines of a Prometheus page the way a scraper reads them: every
// sample belongs to a family announced by one HELP and one TYPE line before
// it, and the lines of one family are not split up. Returns the samples by
// their full text before the value.
std::map<std::string, std::string> ParseMetrics(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf))");
  std::map<std::string, std::string> samples;
  std::set<std::string> families_seen;
  std::string family, family_type;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      INFO(line);
      REQUIRE(families_seen.insert(m[1]).second);  // a family appears once
      family = m[1];
      family_type.clear();
    } else if (std::regex_match(line, m, type)) {
      INFO(line);
      REQUIRE(m[1] == family);
      family_type = m[2];
    } else {
      INFO(line);
      REQUIRE(std::regex_match(line, m, sample));
      std::string name = m[1];
      REQUIRE(!family_type.empty());
      if (family_type == "histogram") {
        REQUIRE((name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
      } else {
        REQUIRE(name == family);
      }
      samples[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
    }
  }
  REQUIRE((text.empty() || text.back() == '\n'));
  return samples;
}

}  // namespace

TEST_CASE("health: a calm container is healthy and ready, reason ok") {
  const HealthSnapshot s = Calm();
  CHECK(Liveness(s, {}).ok);
  CHECK(Liveness(s, {}).reason == "ok");
  CHECK(Readiness(s, {}).ok);
  CHECK(Readiness(s, {}).reason == "ok");
}

TEST_CASE("health: a failed component makes it unhealthy and not ready, with the reason") {
  HealthSnapshot s = Calm();
  s.components[1].failed = true;
  s.components[1].reason = "bind: address in use";
  CHECK_FALSE(Liveness(s, {}).ok);
  CHECK(Liveness(s, {}).reason == "control_socket failed: bind: address in use");
  CHECK_FALSE(Readiness(s, {}).ok);
}

TEST_CASE("health: every reason is given, not only the first") {
  HealthSnapshot s = Calm();
  s.components[0].failed = true;
  s.components[1].failed = true;
  s.components[1].reason = "gone";
  s.vault_state = "failed";
  s.vault_reason = "umount: busy";
  CHECK(Liveness(s, {}).reason == "reaper failed; control_socket failed: gone; vault failed: umount: busy");
}

TEST_CASE("health: a failed vault is unhealthy and recovering makes it healthy again") {
  HealthSnapshot s = Calm();
  s.vault_state = "failed";
  s.vault_reason = "luks activate: no space";
  CHECK_FALSE(Liveness(s, {}).ok);
  CHECK(Liveness(s, {}).reason == "vault failed: luks activate: no space");
  s.vault_state = "locked";
  s.vault_reason.clear();
  CHECK(Liveness(s, {}).ok);
}

TEST_CASE("health: a vault operation past the limit is stuck; within it, healthy") {
  HealthSnapshot s = Calm();
  HealthPolicy policy;
  policy.max_vault_operation = 60s;
  s.vault_state = "locking";
  s.vault_operation = "lock";
  s.vault_busy_since = s.now - 60s;
  CHECK(Liveness(s, policy).ok);  // at the limit is not past it
  CHECK(Readiness(s, policy).ok);
  s.vault_busy_since = s.now - 61s;
  CHECK_FALSE(Liveness(s, policy).ok);
  CHECK(Liveness(s, policy).reason == "vault lock running for 61s (limit 60s)");
  s.vault_busy_since.reset();
  s.vault_state = "locked";
  CHECK(Liveness(s, policy).ok);
}

TEST_CASE("health: ready needs the gate to take logins; the vault's state does not matter") {
  HealthSnapshot s = Calm();
  for (const char* state : {"absent", "locked", "unlocking", "unlocked", "locking"}) {
    s.vault_state = state;
    CHECK(Readiness(s, {}).ok);
  }
  s.accepting_logins = false;
  CHECK(Liveness(s, {}).ok);
  CHECK_FALSE(Readiness(s, {}).ok);
  CHECK(Readiness(s, {}).reason == "not accepting logins");
}

TEST_CASE("health: /status is one JSON object with the snapshot's facts") {
  HealthSnapshot s = Calm();
  s.vault_state = "unlocking";
  s.vault_operation = "unlock";
  s.vault_busy_since = s.now - 2500ms;
  s.throttle_delay = 4000ms;
  s.last_error = "wrong passphrase";
  s.counters.logins_refused = 3;
  s.counters.passphrase_changes_ok = 4;
  s.counters.passphrase_changes_refused = 5;
  s.components[0].failed = true;
  s.components[0].reason = "bad \"utf8\" \xff";  // invalid UTF-8 must not throw
  const std::string body = StatusJson(s, {});
  const auto json = nlohmann::json::parse(body);
  CHECK(json["healthy"] == false);
  CHECK(json["ready"] == false);
  CHECK(json["version"] == "0.1.0");
  CHECK(json["uptime_seconds"] == 42.5);
  CHECK(json["vault"]["state"] == "unlocking");
  CHECK(json["vault"]["operation"] == "unlock");
  CHECK(json["vault"]["operation_seconds"] == 2.5);
  CHECK(json["sessions"] == 1);
  CHECK(json["throttle_delay_seconds"] == 4.0);
  CHECK(json["last_error"] == "wrong passphrase");
  CHECK(json["counters"]["logins_refused"] == 3);
  CHECK(json["counters"]["passphrase_changes_ok"] == 4);
  CHECK(json["counters"]["passphrase_changes_refused"] == 5);
  REQUIRE(json["components"].size() == 2);
  CHECK(json["components"][0]["name"] == "reaper");
  CHECK(json["components"][0]["failed"] == true);
  CHECK(json["components"][1].contains("reason") == false);
}

TEST_CASE("health: /metrics is a well-formed page with the vault state as 1 and 0") {
  HealthSnapshot s = Calm();
  s.counters.logins_ok = 5;
  s.counters.logins_refused = 2;
  s.counters.passphrase_changes_ok = 6;
  s.counters.passphrase_changes_refused = 7;
  s.counters.zombies_reaped = 17;
  s.counters.throttle_delay_seconds = 1.5;
  s.unlock_seconds.Observe(0.7);
  s.components[1].failed = true;
  const auto samples = ParseMetrics(MetricsText(s, {}));
  CHECK(samples.at("tazpod_build_info{version=\"0.1.0\"}") == "1");
  CHECK(samples.at("tazpod_healthy") == "0");
  CHECK(samples.at("tazpod_ready") == "0");
  CHECK(samples.at("tazpod_uptime_seconds") == "42.5");
  CHECK(samples.at("tazpod_vault_state{state=\"locked\"}") == "1");
  CHECK(samples.at("tazpod_vault_state{state=\"unlocked\"}") == "0");
  CHECK(samples.at("tazpod_vault_state{state=\"failed\"}") == "0");
  CHECK(samples.at("tazpod_component_failed{component=\"reaper\"}") == "0");
  CHECK(samples.at("tazpod_component_failed{component=\"control_socket\"}") == "1");
  CHECK(samples.at("tazpod_sessions") == "1");
  CHECK(samples.at("tazpod_logins_total{result=\"ok\"}") == "5");
  CHECK(samples.at("tazpod_logins_total{result=\"refused\"}") == "2");
  CHECK(samples.at("tazpod_passphrase_changes_total{result=\"ok\"}") == "6");
  CHECK(samples.at("tazpod_passphrase_changes_total{result=\"refused\"}") == "7");
  CHECK(samples.at("tazpod_zombies_reaped_total") == "17");
  CHECK(samples.at("tazpod_throttle_delay_seconds_total") == "1.5");
  CHECK(samples.at("tazpod_vault_unlock_duration_seconds_bucket{le=\"0.5\"}") == "0");
  CHECK(samples.at("tazpod_vault_unlock_duration_seconds_bucket{le=\"1\"}") == "1");
  CHECK(samples.at("tazpod_vault_unlock_duration_seconds_count") == "1");
  CHECK(samples.at("tazpod_vault_lock_duration_seconds_bucket{le=\"+Inf\"}") == "0");
}

TEST_CASE("health: /metrics lists a vault state it was not told about rather than none") {
  HealthSnapshot s = Calm();
  s.vault_state_names.clear();
  const auto samples = ParseMetrics(MetricsText(s, {}));
  CHECK(samples.at("tazpod_vault_state{state=\"locked\"}") == "1");
  CHECK(samples.count("tazpod_vault_state{state=\"unlocked\"}") == 0);
}

TEST_CASE("health: counter families end in _total, as Prometheus expects") {
  const std::string text = MetricsText(Calm(), {});
  std::istringstream lines(text);
  std::string line;
  int counters = 0;
  while (std::getline(lines, line)) {
    if (!line.starts_with("# TYPE ") || !line.ends_with(" counter")) continue;
    ++counters;
    const std::string name = line.substr(7, line.size() - 7 - 8);
    INFO(name);
    CHECK(name.ends_with("_total"));
  }
  CHECK(counters >= 8);
}
