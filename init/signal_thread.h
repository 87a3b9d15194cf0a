// How PID 1 takes its signals: one thread of its own, asleep in sigwaitinfo().
//
// Every signal init handles is blocked in every thread (init/signals.h). The
// signal thread waits for all of them in sigwaitinfo(), the way tini and
// dumb-init wait, so a signal wakes it directly: no handler frame, no
// signalfd wait queue, no event loop to go round.
//
//  - The signals init only passes on (SignalsOnlyForwarded(); none at debug
//    level, where the loop forwards and logs each one) are forwarded right
//    there: one kill() to the main child, or its process group.
//  - Every other one (SIGCHLD, SIGTERM, SIGINT, ...) is written to a pipe as
//    a signalfd_siginfo record, which the event loop reads as it would read
//    a signalfd. A standard signal whose record the loop has not taken yet
//    is not written again (the kernel does not queue a pending one twice
//    either; one reap takes every exited child), so a burst of SIGCHLD
//    cannot fill the pipe.
//
// Why a thread, when the loop could read a signalfd: a signalfd wakes its
// reader through a wait queue, and any signal to the process (forwarded or
// not) wakes it; the loop then reads, dispatches and re-arms. A signal
// handler instead costs a frame and the loop's wake from epoll_wait for
// every forward. For the same reason no signalfd stays open beside the
// thread (one would still be woken by every signal): init opens one before
// anything starts, as the fallback should the thread not start, and closes
// it once the thread runs. docs/benchmarks.md has the measurements.
//
// The thread shares little with the main thread: the forwarding settings
// (fixed before Start), the main child's pid, and one mutex that Pause holds.
// It never touches the event loop. It logs only a failed forward (common/log
// may be called from any thread). It lives until init exits.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <map>

#include "common/unique_fd.h"

namespace tazpod::init::signal_thread {

struct Settings {
  // Forwarded by the thread itself; the rest of `handled` goes to the pipe.
  sigset_t forward;
  // A signal mapped to the one sent instead (0: dropped), as --rewrite.
  std::map<int, int> rewrite;
  // Send to the main child's process group (-pid), as tini -g.
  bool to_group = false;
};

// Starts the thread, waiting for every signal in `handled`, which must be
// blocked in the calling thread (the new thread inherits the mask). Returns
// the pipe's read end (non-blocking, close-on-exec), from which the loop
// reads signalfd_siginfo records (ssi_signo and ssi_pid set); on failure an
// invalid descriptor with errno set, and no thread.
UniqueFd Start(const sigset_t& handled, const Settings& settings);

// Who gets the forwarded signals: the main child's pid, or 0 when there is
// none (then they are dropped, as the loop drops them). Set to 0 with a
// Pause held.
void SetMainChild(pid_t pid);

// The loop calls this for each record it reads, before acting on it: the
// same signal arriving from then on gets a record again. (One that arrived
// before is merged into the one about to be acted on, as the kernel merges
// a pending standard signal: a SIGCHLD's child has exited already, so the
// reap that follows takes it.)
void Taken(int signal);

// While one exists, the thread forwards nothing: a signal it takes meanwhile
// waits, and goes to whatever SetMainChild() said last when the last Pause
// ends. Init holds one while it reaps: between reaping the main child and
// SetMainChild(0), its pid may already be someone else's. For the main
// thread only; Pauses nest.
class Pause {
 public:
  Pause();
  ~Pause();
  Pause(const Pause&) = delete;
  Pause& operator=(const Pause&) = delete;
};

// The kill() of one forward, the thread's and the loop's alike: `signal` to
// the main child `child`, or to its process group (-child) when `to_group`;
// the target goes in *target. Returns 0, or the errno of a refused kill().
// ESRCH is not a failure: the child has just exited, and its reaping is on
// its way to the loop.
int SendToMainChild(pid_t child, int signal, bool to_group, pid_t* target);

// The line for a forward that kill() refused: init.signal.forward_failed.
void LogForwardFailed(int signal, pid_t target, int error);

}  // namespace tazpod::init::signal_thread
