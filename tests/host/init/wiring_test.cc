// WireComponents when a component cannot be made: no descriptor left for
// the timerfds of its timers (a seccomp filter makes timerfd_create fail
// with EMFILE once the supervisor has its own). PID 1 must not exit for
// that: the gate and the control socket are left out and reported, the
// vault still starts (its recovery) and is still locked at the shutdown,
// the health endpoint waits to be tried again, and the shutdown runs.
#include <sys/syscall.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>

#include "init/config.h"
#include "init/wiring.h"
#include "tests/host/init/in_child.h"
#include "tests/host/init/supervisor_harness.h"
#include "tests/host/seccomp_deny.h"

using namespace std::chrono_literals;
using tazpod::testing::InChild;
using tazpod::testing::SupervisorHarness;

TEST_CASE("wiring: components whose timers cannot be made are left out, reported, and init goes on") {
  char dir[] = "/tmp/tazpod-wiring-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string socket = std::string(dir) + "/control.sock";
  const int status = InChild([&socket] {
    SupervisorHarness s(300ms);
    tazpod::init::Config config;
    config.vault.enabled = true;
    config.session.control = true;
    config.session.socket = socket;
    config.session.user = "root";
    config.vault.helper = "/nonexistent/tazpod-vault-helper";  // never reached: its timer comes first
    config.health.http = true;
    config.health.port = 0;  // any free one: it is never reached anyway
    if (!tazpod::testing::DenySyscall(SYS_timerfd_create, EMFILE)) return 10;
    // The code before threw out of here (98).
    tazpod::init::Components c = tazpod::init::WireComponents(s.io, *s.supervisor, config);
    if (!c.vault || c.gate) return 11;
    if (c.control || c.control_error.find("timerfd") == std::string::npos) return 12;
    if (!c.health) return 13;
    const auto& failed = s.supervisor->failures().failed();
    if (!failed.contains("gate") || failed.at("gate").find("timerfd") == std::string::npos) return 14;
    SupervisorHarness::SendTermFromChild();
    const int code = s.supervisor->Run();
    // The vault's lock is still a shutdown step: tried, it cannot start
    // either (its helper's timer), so the step fails, and says so.
    return code == tazpod::init::kExitShutdownStepFailed ? 0 : 20 + code;
  });
  std::filesystem::remove_all(dir);
  CHECK(status == 0);
}
