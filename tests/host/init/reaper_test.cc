// The Reaper with real child processes: a watched process's callback that
// throws does not stop the reaping of the others, and is recorded as the
// reaper's failure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "init/reaper.h"
#include "tests/host/captured_log.h"

using tazpod::init::Reaper;

namespace {

// Forks a child that exits with `code` at once.
pid_t ExitingChild(int code) {
  pid_t pid = fork();
  if (pid == 0) _exit(code);
  return pid;
}

// Waits until `pid` has exited, without reaping it.
void WaitUntilExited(pid_t pid) {
  siginfo_t info{};
  REQUIRE(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0);
}

}  // namespace

TEST_CASE("reaper: a callback that throws does not leave the other children as zombies") {
  tazpod::init::ComponentFailures failures;
  Reaper reaper(false, &failures);
  const pid_t throwing = ExitingChild(1);
  const pid_t other = ExitingChild(2);
  REQUIRE(throwing > 0);
  REQUIRE(other > 0);
  WaitUntilExited(throwing);
  WaitUntilExited(other);
  int other_status = -1;
  reaper.Watch(throwing, [](pid_t, int) { throw std::runtime_error("component bug"); });
  reaper.Watch(other, [&](pid_t, int status) { other_status = status; });
  tazpod::testing::CapturedLog log;
  REQUIRE(log.valid());
  int reaped = 0;
  REQUIRE_NOTHROW(reaped = reaper.ReapAll());
  CHECK(reaped == 2);
  REQUIRE(WIFEXITED(other_status));
  CHECK(WEXITSTATUS(other_status) == 2);
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);  // no child left, zombie or not
  CHECK(errno == ECHILD);
  // Recorded, for health to report the reaper failed (docs/health.md).
  REQUIRE(failures.failed().size() == 1);
  CHECK(failures.failed().begin()->first == "reaper");
  CHECK(failures.failed().begin()->second == "component bug");
  // Its fields in docs/logging.md's order.
  CHECK(log.Text().find("init.component.failed component=reaper error=\"component bug\" pid=" +
                                 std::to_string(throwing)) != std::string::npos);
}
