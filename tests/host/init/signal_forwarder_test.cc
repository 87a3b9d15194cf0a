// The signal forwarder's thread with real signals and real processes: a
// signal sent to this process by another one reaches the target child while
// the caller's thread is busy elsewhere; rewriting and dropping apply; the
// reaper clears the target in the step that reaps it, so nothing is sent
// after; Stop() ends a thread that is asleep in read().
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <thread>

#include "init/reaper.h"
#include "init/signal_forwarder.h"
#include "init/signals.h"

using namespace std::chrono_literals;
using tazpod::init::Reaper;
using tazpod::init::SignalForwarder;

namespace {

// A child that reports every signal of `watched` it receives, by number, on
// a pipe, and exits 0 on SIGTERM.
struct RecordingChild {
  pid_t pid = -1;
  int report = -1;

  RecordingChild() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      sigset_t all;
      sigfillset(&all);
      for (;;) {
        int signal = sigwaitinfo(&all, nullptr);
        if (signal < 0) continue;
        if (write(fds[1], &signal, sizeof signal) != sizeof signal) _exit(1);
        if (signal == SIGTERM) _exit(0);
      }
    }
    close(fds[1]);
    report = fds[0];
  }
  ~RecordingChild() {
    if (report >= 0) close(report);
  }

  // The next signal the child reported, or 0 after `timeout`.
  int Next(std::chrono::milliseconds timeout = 5000ms) const {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(report, &set);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    if (select(report + 1, &set, nullptr, nullptr, &tv) != 1) return 0;
    int signal = 0;
    return read(report, &signal, sizeof signal) == sizeof signal ? signal : 0;
  }
};

// Sends `signal` to this process from another process, as a runtime would.
void SendFromOutside(int signal) {
  const pid_t self = getpid();
  pid_t sender = fork();
  REQUIRE(sender >= 0);
  if (sender == 0) _exit(kill(self, signal) == 0 ? 0 : 1);
  int status = 0;
  REQUIRE(waitpid(sender, &status, 0) == sender);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// Blocks every signal init handles for the test's duration, as init does
// before it starts any thread; the forked children reset their own mask.
struct BlockedSignals {
  sigset_t old;
  BlockedSignals() {
    sigset_t handled = tazpod::init::SignalsToHandle();
    REQUIRE(tazpod::init::BlockSignals(handled, &old) == 0);
  }
  ~BlockedSignals() {
    // Drop what the tests left pending before unblocking.
    sigset_t pending;
    sigpending(&pending);
    timespec zero{0, 0};
    while (sigtimedwait(&pending, nullptr, &zero) > 0) {}
    sigprocmask(SIG_SETMASK, &old, nullptr);
  }
};

}  // namespace

TEST_CASE("forwarder: a signal reaches the child while the caller's thread is busy; rewrite and drop apply") {
  BlockedSignals blocked;
  RecordingChild child;
  SignalForwarder forwarder({child.pid, false, {{SIGUSR1, SIGUSR2}, {SIGHUP, 0}}});
  REQUIRE(forwarder.Start() == 0);

  // This thread never reads a signal: the forwarder's thread alone does.
  SendFromOutside(SIGWINCH);
  CHECK(child.Next() == SIGWINCH);
  SendFromOutside(SIGUSR1);
  CHECK(child.Next() == SIGUSR2);
  SendFromOutside(SIGHUP);  // dropped
  SendFromOutside(SIGQUIT);
  CHECK(child.Next() == SIGQUIT);

  // SIGTERM is the event loop's (shutdown), not the forwarder's: it stays
  // pending in this process, and the child gets nothing.
  SendFromOutside(SIGTERM);
  CHECK(child.Next(300ms) == 0);
  sigset_t pending;
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGTERM) == 1);

  forwarder.Stop();
  kill(child.pid, SIGKILL);
  waitpid(child.pid, nullptr, 0);
}

TEST_CASE("forwarder: the reaper clears the target in the step that reaps it; nothing is sent after") {
  BlockedSignals blocked;
  RecordingChild child;
  SignalForwarder forwarder({child.pid, false, {}});
  REQUIRE(forwarder.Start() == 0);
  Reaper reaper(false);
  reaper.Guard(&forwarder.target());

  // A sibling that must outlive the reap untouched (reaping another child
  // leaves the target alone).
  pid_t other = fork();
  REQUIRE(other >= 0);
  if (other == 0) _exit(7);
  while (reaper.ReapAll() == 0) std::this_thread::sleep_for(10ms);
  CHECK(forwarder.target().pid == child.pid);

  kill(child.pid, SIGTERM);
  CHECK(child.Next() == SIGTERM);
  int reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = reaper.ReapAll();
    if (reaped == 0) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(reaped == 1);
  CHECK(forwarder.target().pid == 0);

  // The forwarder now has no one to signal: the signal is read and ignored,
  // not left pending and not sent anywhere.
  SendFromOutside(SIGUSR2);
  sigset_t pending;
  for (int i = 0; i < 100; ++i) {
    sigpending(&pending);
    if (sigismember(&pending, SIGUSR2) == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(sigismember(&pending, SIGUSR2) == 0);
  forwarder.Stop();
}

TEST_CASE("forwarder: Stop() ends a thread asleep in read(), and is idempotent") {
  BlockedSignals blocked;
  SignalForwarder forwarder({0, false, {}});
  REQUIRE(forwarder.Start() == 0);
  std::this_thread::sleep_for(50ms);  // let it reach read()
  forwarder.Stop();  // would hang here (and time out the test) if not woken
  forwarder.Stop();
}
