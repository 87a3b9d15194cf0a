// Forwarding from a signal handler: the signals init only passes on to the
// main child (SIGHUP, SIGUSR1, SIGWINCH, …) are sent on by a handler the
// moment they are delivered, instead of being read from the signalfd by the
// event loop.
//
// Why, when everything else init does comes through the signalfd: a thread
// asleep in epoll_wait on a signalfd is woken by way of the signalfd's wait
// queue, and then still has to read the signal and dispatch it. tini and
// dumb-init sleep in sigtimedwait, which signal delivery wakes directly; an
// unblocked signal with a handler takes that same direct path into the
// loop's epoll_wait, and the handler's one kill() is the whole forward. The
// loop keeps waiting on its descriptors (sockets, pidfds, timers) as before.
// docs/benchmarks.md has the measurements.
//
// The handler does nothing but read a few words and call kill() (and, when
// that fails, note why and write to an eventfd): it is async-signal-safe,
// keeps errno, and passes nothing on for a signal the kernel raised against
// init itself, nor for one that reaches a forked child of init before that
// child resets its dispositions. Dispositions are process-wide, so this is
// process-wide state: used by PID 1's main thread only (init has no other
// thread).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <map>

namespace tazpod::init::fast_forward {

// Installs the handler for every signal in `signals` that can take one (glibc
// keeps two real-time signals to itself). `rewrite` maps a signal to the one
// sent instead (0: dropped), as --rewrite; `to_group` sends to the main
// child's process group. The signals stay blocked until Start(). Returns 0
// or the errno of a failed sigaction other than EINVAL.
int Install(const sigset_t& signals, const std::map<int, int>& rewrite, bool to_group);

// Who gets the signals: the main child's pid, or 0 when there is none (then
// they are dropped, as the loop drops them).
void SetMainChild(pid_t pid);

// A handler cannot log. When the handler's kill() fails for a reason other
// than ESRCH (the child has just exited, which the loop ignores too), it
// notes the failure and adds 1 to this eventfd's counter, so that the loop
// wakes and logs it. Set before Start(); -1 (the default, and before the
// descriptor is closed): failures are not noted.
void SetFailureFd(int fd);

// The last failure the handler noted: the signal it sent, to whom (negative:
// a process group), and errno. Read with the signals held back, so the
// three belong to the same failure.
struct Failure {
  int signal = 0;
  pid_t target = 0;
  int error = 0;
};
Failure LastFailure();

// Unblocks the installed signals: from here on each one is forwarded as it
// is delivered, including any that were pending. Returns 0 or errno.
int Start();

// While one exists, the installed signals stay pending instead of being
// handled. Init holds one while it reaps: between reaping the main child and
// SetMainChild(0), its pid may already be someone else's, and the handler
// must not kill() it. Pending signals are handled (or dropped) when the last
// Pause ends. Costs nothing when no signal is installed.
class Pause {
 public:
  Pause();
  ~Pause();
  Pause(const Pause&) = delete;
  Pause& operator=(const Pause&) = delete;
};

}  // namespace tazpod::init::fast_forward
