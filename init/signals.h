// How PID 1 takes signals: all of them blocked and read from a signalfd, so a
// signal is one more readable descriptor in the event loop (as catatonit
// does), with no handler running at an arbitrary point.
#pragma once

#include <signal.h>

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
UniqueFd OpenSignalFd(const sigset_t& signals);

// For the main child between fork and exec: every disposition back to
// SIG_DFL and the mask back to `original`. Async-signal-safe.
void ResetSignalsForChild(const sigset_t& original);

// True for the signals init passes on to the main child rather than acting
// on itself: everything catchable except SIGCHLD (init's own business) and
// the synchronous fault signals. SIGTERM and SIGINT are passed on too, as
// part of the shutdown sequence.
bool IsForwardable(int signal);

// The forwardable signals init does nothing with but pass on, which can be
// forwarded from a signal handler (init/fast_forward.h). All but SIGTERM and
// SIGINT (they start the shutdown), SIGPIPE (init raises it against itself
// when it writes to a closed pipe), and SIGTTIN and SIGTTOU: the kernel
// raises those against init itself when it writes to the terminal its main
// child has in the foreground; blocked, the write just goes through, where a
// handler would be run again and again by the restarted write.
sigset_t SignalsOnlyForwarded();

}  // namespace tazpod::init
