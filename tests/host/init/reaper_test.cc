// The Reaper with real child processes: a watched process's callback that
// throws does not stop the reaping of the others, and is recorded as the
// reaper's failure.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"
#include "init/reaper.h"

using tazpod::init::Reaper;

namespace {

// Forks a child that exits with `code` at once.
pid_t ExitingChild(int code) {
  pid_t pid = fork();
  if (pid == 0) _exit(code);
  return pid;
}

// What was written to `fd` (a memfd) from its start.
std::string Contents(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  off_t at = 0;
  while ((n = pread(fd, buffer, sizeof buffer, at)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    at += n;
  }
  return text;
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
  tazpod::UniqueFd log(memfd_create("log", MFD_CLOEXEC));
  REQUIRE(log);
  tazpod::ConfigureLog(tazpod::LogFormat::kText, tazpod::LogLevel::kInfo, log.get());
  int reaped = 0;
  REQUIRE_NOTHROW(reaped = reaper.ReapAll());
  tazpod::ConfigureLog(tazpod::LogFormat::kText, tazpod::LogLevel::kInfo, 2);
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
  CHECK(Contents(log.get()).find("init.component.failed component=reaper error=\"component bug\" pid=" +
                                 std::to_string(throwing)) != std::string::npos);
}
