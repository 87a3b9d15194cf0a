// CloseOnExecAboveStderr and CloseAboveStderr on a kernel without
// close_range (before Linux 5.9; CLOSE_RANGE_CLOEXEC before 5.11), staged
// with a seccomp filter: every open descriptor is reached, found by
// /proc/self/fd, including one above the descriptor limit (opened before
// the limit was lowered), which a loop up to the limit would miss.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>

#include "common/descriptors.h"
#include "tests/host/seccomp_deny.h"

namespace {

constexpr int kHigh = 900;  // above the lowered limit of 64

// In a child of its own (a seccomp filter cannot be taken back): opens a
// pipe, moves its read end to kHigh, lowers the limit below it, denies
// close_range when asked, runs `act`, and exits 0 when `check` holds for
// the pipe's write end and for kHigh.
template <typename Act, typename Check>
int InChild(bool deny_close_range, Act act, Check check) {
  const pid_t pid = fork();
  if (pid == 0) {
    int fds[2];
    // Without O_CLOEXEC: what is checked is that the call under test sets it.
    if (pipe(fds) != 0 || dup2(fds[0], kHigh) != kHigh) _exit(10);  // NOLINT(android-cloexec-pipe)
    close(fds[0]);
    struct rlimit limit = {64, 64};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(11);
    if (deny_close_range && !tazpod::testing::DenySyscall(SYS_close_range, ENOSYS)) _exit(12);
    act();
    _exit(check(fds[1]) && check(kHigh) ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool MarkedCloseOnExec(int fd) {
  const int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

bool Closed(int fd) { return fcntl(fd, F_GETFD) < 0 && errno == EBADF; }

}  // namespace

TEST_CASE("descriptors: without close_range every one above stderr is marked close-on-exec") {
  CHECK(InChild(true, tazpod::CloseOnExecAboveStderr, MarkedCloseOnExec) == 0);
  CHECK(InChild(false, tazpod::CloseOnExecAboveStderr, MarkedCloseOnExec) == 0);
}

TEST_CASE("descriptors: without close_range every one above stderr is closed") {
  CHECK(InChild(true, tazpod::CloseAboveStderr, Closed) == 0);
  CHECK(InChild(false, tazpod::CloseAboveStderr, Closed) == 0);
}
