// Which signals PID 1 takes, and how it sets them up: all of them blocked in
// every thread, so that no handler runs at an arbitrary point; the signal
// thread (init/signal_thread.h) waits for them, or, should it not start, the
// event loop reads them from a signalfd (as catatonit does).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "common/unique_fd.h"

namespace tazpod::init {

// Every signal except those the kernel raises synchronously for a fault in
// this process (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT):
// blocking those would turn a crash into a hang. SIGKILL and SIGSTOP cannot
// be blocked anyway.
sigset_t SignalsToHandle();

// SIGCHLD back to SIG_DFL, whatever init inherited. A parent that ignored it
// (exec keeps SIG_IGN) would have the kernel reap init's children itself,
// with no signal and no status: the main child's exit would go unseen.
// Returns errno or 0.
int TakeBackSigchld();

// Blocks `signals`, saving the previous mask in `*old`. Returns errno or 0.
int BlockSignals(const sigset_t& signals, sigset_t* old);

// A non-blocking, close-on-exec signalfd for `signals`; invalid on error.
// The loop's way to read signals when the signal thread cannot start.
UniqueFd OpenSignalFd(const sigset_t& signals);

// For the main child between fork and exec: every disposition back to
// SIG_DFL and the mask back to `original`. Async-signal-safe.
void ResetSignalsForChild(const sigset_t& original);

// True for the signals init passes on to the main child rather than acting
// on itself: everything catchable except SIGCHLD (init's own business) and
// the synchronous fault signals. SIGTERM and SIGINT are passed on too, as
// part of the shutdown sequence.
bool IsForwardable(int signal);

// True for a signal the kernel raised against init itself, which is never
// the main child's business: one init caused with its own write or kill
// (SIGPIPE; SIGXFSZ past RLIMIT_FSIZE), which comes "from" init, and
// SIGXCPU past init's own RLIMIT_CPU, which comes from the kernel
// (SI_KERNEL). Forwarded, the last would end a main child that never asked
// for it (its default action is to dump core).
bool RaisedAgainstInit(int signal, int code, pid_t sender, pid_t self);

// The forwardable signals init does nothing with but pass on, which the
// signal thread forwards itself (init/signal_thread.h). All but SIGTERM and
// SIGINT (they start the shutdown), and SIGPIPE, SIGTTIN and SIGTTOU, which
// can come from init itself (SIGPIPE from a write to a closed pipe; the
// other two from a write to the terminal its main child has in the
// foreground, were they not blocked): the loop sees who sent them and drops
// init's own.
sigset_t SignalsOnlyForwarded();

}  // namespace tazpod::init
