// Forwards the main child's signals on a thread of its own.
//
// Forwarding is the path of init whose speed users feel: Ctrl+C and Ctrl+Z
// in an interactive shell, a SIGWINCH per terminal resize, a supervisor's
// SIGUSR1 to reload. The thread sleeps in read() on a signalfd holding only
// the signals meant for the child and sends each on at once, as catatonit's
// whole loop does. The event loop's signalfd keeps the rest (SIGCHLD, and
// SIGTERM, SIGINT and SIGPIPE, which init acts on), so every signal wakes
// exactly one of the two, and a loop busy with a component's work never
// delays a forward.
//
// The thread shares one thing with the event loop: the pid it signals, a
// GuardedPid that the Reaper clears in the same step as the waitpid() that
// frees the pid (see reaper.h). It never signals a reused pid.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/unique_fd.h"
#include "init/reaper.h"

namespace tazpod::init {

class SignalForwarder {
 public:
  struct Options {
    pid_t main_child = 0;
    bool to_process_group = false;         // kill(-pgid) rather than kill(pid)
    std::map<int, int> rewrite;            // signal → signal sent (0: dropped)
  };

  // The signals the thread takes: every forwardable signal but SIGTERM and
  // SIGINT (they start the shutdown) and SIGPIPE (init raises it against
  // itself on a write to a closed pipe; only the loop can tell which is which).
  static sigset_t Signals();

  explicit SignalForwarder(Options options);
  ~SignalForwarder();  // Stop()
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  // Opens the signalfd and starts the thread. Returns 0, or the errno of
  // what failed, and then nothing is left open or running. Signals() must
  // already be blocked in every thread.
  int Start();

  // Wakes the thread and joins it. Idempotent.
  void Stop();

  // The pid signals go to, for Reaper::Guard.
  GuardedPid& target() { return target_; }

 private:
  void Run();
  void Forward(int signal);

  Options options_;
  GuardedPid target_;
  pid_t self_;
  UniqueFd signal_fd_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace tazpod::init
