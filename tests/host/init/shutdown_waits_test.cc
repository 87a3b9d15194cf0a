// What the shutdown waits for, when the kernel makes waiting hard: no
// pidfds (pidfd_open refused, as before Linux 5.3 or under a seccomp
// profile that predates it), a main child that cannot be reaped (its
// exit held by a tracer, as one stuck in the kernel would be), and a
// process that appears after the grace period's SIGKILL.
//
// Each case runs in a forked process of its own: a seccomp filter cannot be
// taken back, and the supervisor must own the children it stops. That
// process reports through its exit status (0: as expected).
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <vector>

#include "common/pidfd.h"
#include "init/supervisor.h"
#include "tests/host/seccomp_deny.h"
#include "tests/host/init/in_child.h"
#include "tests/host/init/stubborn_process.h"
#include "tests/host/init/supervisor_harness.h"

using namespace std::chrono_literals;
using tazpod::testing::InChild;
using tazpod::testing::LeaveOutputAndLimitLife;
using tazpod::testing::StartStubborn;
using tazpod::testing::SupervisorHarness;

namespace {

// The status a case reports once its shutdown has run: 12 when it did not
// take as long as it should (`timed_right`), 13 when `pid` is still there
// (not killed, or not reaped), 20 + init's exit code when that is not
// `expected`, and 0 when all is as it should be. Then `pid` is killed, so
// that a failed case leaves nothing behind.
int Verdict(bool timed_right, pid_t pid, int code, int expected) {
  const bool reaped = kill(pid, 0) != 0 && errno == ESRCH;
  kill(pid, SIGKILL);
  if (!timed_right) return 12;
  if (!reaped) return 13;
  return code == expected ? 0 : 20 + code;
}

// Lowers this process's RLIMIT_NOFILE to `descriptors`.
bool LimitDescriptors(rlim_t descriptors) {
  struct rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  limit.rlim_cur = descriptors;
  return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

}  // namespace

TEST_CASE("shutdown without pidfds: a process is still waited for, then killed after the grace period") {
  const int status = InChild([] {
    pid_t stubborn = StartStubborn();
    if (stubborn < 0) return 10;
    if (!tazpod::testing::DenyPidfdOpen(ENOSYS)) return 11;
    SupervisorHarness s;
    SupervisorHarness::SendTermFromChild();
    const auto start = std::chrono::steady_clock::now();
    const int code = s.supervisor->Run();
    const bool waited = std::chrono::steady_clock::now() - start >= 400ms;
    return Verdict(waited, stubborn, code, tazpod::init::kExitKilledAfterGrace);
  });
  // 12 or 20 (exit 0 at once, the process left running): the code before.
  CHECK(status == 0);
}

TEST_CASE("shutdown without pidfds: a process that obeys SIGTERM ends the wait early") {
  const int status = InChild([] {
    if (!tazpod::testing::DenyPidfdOpen(ENOSYS)) return 11;
    pid_t obedient = fork();
    if (obedient == 0) {
      LeaveOutputAndLimitLife();
      for (;;) pause();
    }
    SupervisorHarness s(30s);
    SupervisorHarness::SendTermFromChild();
    const auto start = std::chrono::steady_clock::now();
    const int code = s.supervisor->Run();
    const bool early = std::chrono::steady_clock::now() - start < 20s;  // not the grace period
    return Verdict(early, obedient, code, tazpod::init::kExitClean);
  });
  CHECK(status == 0);
}

TEST_CASE("shutdown: a main child killed after the grace period but not reapable still gives 137") {
  const int status = InChild([] {
    pid_t child = StartStubborn();
    if (child < 0) return 10;
    // A tracer outside this process's descendants (so the shutdown leaves
    // it alone) seizes the child and never waits for it: the child's exit
    // is the tracer's to collect, and this process cannot reap it.
    int seized[2];
    if (pipe2(seized, O_CLOEXEC) != 0) return 10;
    pid_t middle = fork();
    if (middle == 0) {
      if (fork() == 0) {
        // Its pid when it holds the child, 0 when it could not seize it.
        const pid_t self = ptrace(PTRACE_SEIZE, child, nullptr, nullptr) == 0 ? getpid() : 0;
        (void)!write(seized[1], &self, sizeof self);
        if (self == 0) _exit(1);
        LeaveOutputAndLimitLife();
        for (;;) pause();
      }
      _exit(0);
    }
    waitpid(middle, nullptr, 0);
    close(seized[1]);
    pid_t tracer = 0;
    if (read(seized[0], &tracer, sizeof tracer) != sizeof tracer || tracer <= 0) return 14;
    SupervisorHarness s;
    SupervisorHarness::SendTermFromChild();
    s.supervisor->AdoptMainChild(child);
    const int code = s.supervisor->Run();
    kill(tracer, SIGKILL);
    kill(child, SIGKILL);
    return code == 128 + SIGKILL ? 0 : 20 + code;  // 24: kExitKilledAfterGrace, the code before
  });
  CHECK(status == 0);
}

TEST_CASE("shutdown with few descriptors: pidfds for all would leave none to read /proc; the grace kill still comes") {
  const int status = InChild([] {
    if (!LimitDescriptors(200)) return 10;
    std::vector<pid_t> stubborn;
    for (int i = 0; i < 250; ++i) {
      const pid_t pid = StartStubborn();
      if (pid < 0) return 10;
      stubborn.push_back(pid);
    }
    SupervisorHarness s(300ms);
    SupervisorHarness::SendTermFromChild();
    const int code = s.supervisor->Run();
    int left = 0;
    for (pid_t pid : stubborn) {
      if (kill(pid, 0) == 0) ++left;  // neither killed nor reaped
      kill(pid, SIGKILL);
    }
    if (left != 0) return 12;
    return code == tazpod::init::kExitKilledAfterGrace ? 0 : 20 + code;
  });
  // 20 on the code before: its /proc listing at the end of the grace period
  // failed (EMFILE) and found no process to kill, so it waited until the
  // processes ended themselves a minute later.
  CHECK(status == 0);
}

TEST_CASE("shutdown when /proc cannot be read (no descriptor to open it): the main child is still killed after the grace period") {
  const int status = InChild([] {
    pid_t child = StartStubborn();
    if (child < 0) return 10;
    SupervisorHarness s(300ms);
    s.supervisor->AdoptMainChild(child);
    // Every open fails as when no descriptor is left: opendir("/proc") too.
    // (A filter rather than all descriptors taken: UBSan needs a few of its
    // own to check memory.)
    if (!tazpod::testing::DenySyscall(SYS_openat, EMFILE)) return 10;
    if (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0 || errno != EMFILE) return 10;
    SupervisorHarness::SendTermFromChild();
    const auto start = std::chrono::steady_clock::now();
    const int code = s.supervisor->Run();
    const bool waited = std::chrono::steady_clock::now() - start >= 250ms;
    return Verdict(waited, child, code, 128 + SIGKILL);
  });
  // 12 on the code before: it read no process, so none was left to wait
  // for, and it exited at once with its main child running.
  CHECK(status == 0);
}

TEST_CASE("shutdown when /proc becomes unreadable during the grace period: the processes it waits for are still killed") {
  const int status = InChild([] {
    // Not the main child: found in /proc when the shutdown begins, then
    // waited for on its pidfd.
    pid_t stubborn = StartStubborn();
    if (stubborn < 0) return 10;
    SupervisorHarness s(500ms);
    // Halfway through the grace period every open starts to fail, as when
    // no descriptor is left: the listing at its end cannot read /proc.
    bool denied = false;
    boost::asio::steady_timer halfway(s.io, 250ms);
    halfway.async_wait([&](boost::system::error_code) { denied = tazpod::testing::DenySyscall(SYS_openat, EMFILE); });
    // The code before waited for good: this ends the case instead.
    boost::asio::steady_timer give_up(s.io, 10s);
    give_up.async_wait([&](boost::system::error_code ec) {
      if (!ec) s.io.stop();
    });
    SupervisorHarness::SendTermFromChild();
    const auto start = std::chrono::steady_clock::now();
    const int code = s.supervisor->Run();
    const auto took = std::chrono::steady_clock::now() - start;
    if (!denied) return 11;
    return Verdict(took >= 400ms && took < 10s, stubborn, code, tazpod::init::kExitKilledAfterGrace);
  });
  // 13 on the code before: with no main child and no /proc, it sent no
  // SIGKILL, and the process was still there when the case gave up.
  CHECK(status == 0);
}

TEST_CASE("shutdown: a process that appears after the grace period's SIGKILL is killed too") {
  const int status = InChild([] {
    pid_t stubborn = StartStubborn();
    if (stubborn < 0) return 10;
    tazpod::UniqueFd pidfd = tazpod::OpenPidFd(stubborn);
    if (!pidfd) return 10;
    SupervisorHarness s(300ms);
    // When the grace period's SIGKILL has ended the first process, a second
    // one that ignores SIGTERM starts: after that SIGKILL's listing, before
    // the round its exit brings (posted from the same turn of the loop,
    // which has both pidfds ready at once).
    pid_t late = -1;
    boost::asio::posix::stream_descriptor watch(s.io, pidfd.Release());
    watch.async_wait(boost::asio::posix::descriptor_base::wait_read, [&](boost::system::error_code ec) {
      if (!ec) late = StartStubborn();
    });
    SupervisorHarness::SendTermFromChild();
    const int code = s.supervisor->Run();
    if (late < 0) return 11;
    return Verdict(true, late, code, tazpod::init::kExitKilledAfterGrace);
  });
  // 13 on the code before: that round sent the late process a SIGTERM
  // only, and it was still there when the wait after the SIGKILL gave up.
  CHECK(status == 0);
}
