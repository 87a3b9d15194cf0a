// The /metrics page as Prometheus's own linter reads it: `promtool check
// metrics` from Debian's prometheus package. Skipped when promtool is not
// installed (set TAZPOD_PROMTOOL to point at one elsewhere).
#include <sys/wait.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "health/health_model.h"

using namespace std::chrono_literals;

namespace {

std::string FindPromtool() {
  if (const char* path = std::getenv("TAZPOD_PROMTOOL"); path && *path) return path;
  // The shell is the point: find promtool the way a user's PATH would.
  return std::system("command -v promtool >/dev/null 2>&1") == 0 ? "promtool" : "";  // NOLINT(cert-env33-c)
}

// A snapshot with every part filled in, and label values that need escaping.
tazpod::health::HealthSnapshot Busy() {
  tazpod::health::HealthSnapshot s;
  s.now = std::chrono::steady_clock::time_point(1000s);
  s.uptime = 42500ms;
  s.version = "0.1.0 \"dev\"\n\\";
  s.components = {{"reaper", "running", false, ""}, {"control_socket", "stopped", true, "bind: in use"}};
  s.vault_state = "unlocking";
  s.vault_state_names = {"absent", "unlocking", "unlocked", "locking", "locked", "failed"};
  s.vault_operation = "unlock";
  s.vault_busy_since = s.now - 3s;
  s.sessions = 2;
  s.throttle_delay = 2s;
  s.counters.logins_ok = 4;
  s.counters.logins_refused = 3;
  s.counters.passphrase_changes_refused = 2;
  s.counters.throttle_delay_seconds = 1.5;
  s.unlock_seconds.Observe(0.7);
  s.lock_seconds.Observe(12);
  return s;
}

}  // namespace

TEST_CASE("health metrics: the page passes promtool check metrics") {
  const std::string promtool = FindPromtool();
  if (promtool.empty()) SKIP("promtool not installed (Debian package prometheus)");
  const std::string text = tazpod::health::MetricsText(Busy(), {});
  // Lint problems go to stdout; the status says whether there were any.
  FILE* pipe = popen((promtool + " check metrics >&2").c_str(), "w");  // NOLINT(cert-env33-c): a test's own command
  REQUIRE(pipe != nullptr);
  REQUIRE(std::fwrite(text.data(), 1, text.size(), pipe) == text.size());
  const int status = pclose(pipe);
  INFO(text);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
