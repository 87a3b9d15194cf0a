#include "init/signals.h"

#include <sys/signalfd.h>

#include <cerrno>

namespace tazpod::init {

namespace {

bool IsSynchronousFault(int signal) {
  switch (signal) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS: case SIGABRT:
      return true;
    default:
      return false;
  }
}

}  // namespace

sigset_t SignalsToHandle() {
  sigset_t set;
  sigfillset(&set);
  for (int s = 1; s < NSIG; ++s) {
    if (IsSynchronousFault(s)) sigdelset(&set, s);
  }
  sigdelset(&set, SIGKILL);
  sigdelset(&set, SIGSTOP);
  return set;
}

int TakeBackSigchld() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  return sigaction(SIGCHLD, &dfl, nullptr) == 0 ? 0 : errno;
}

int BlockSignals(const sigset_t& signals, sigset_t* old) {
  return sigprocmask(SIG_BLOCK, &signals, old) == 0 ? 0 : errno;
}

UniqueFd OpenSignalFd(const sigset_t& signals) {
  return UniqueFd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
}

void ResetSignalsForChild(const sigset_t& original) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, nullptr);  // fails harmlessly for glibc's internal signals
  }
  sigprocmask(SIG_SETMASK, &original, nullptr);
}

bool IsForwardable(int signal) {
  if (signal <= 0 || signal >= NSIG) return false;
  if (signal == SIGCHLD || signal == SIGKILL || signal == SIGSTOP) return false;
  return !IsSynchronousFault(signal);
}

bool RaisedAgainstInit(int signal, int code, pid_t sender, pid_t self) {
  if ((code == SI_USER || code == SI_TKILL) && sender == self) return true;
  return signal == SIGXCPU && code == SI_KERNEL;
}

sigset_t SignalsOnlyForwarded() {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s < NSIG; ++s) {
    if (!IsForwardable(s)) continue;
    switch (s) {
      case SIGTERM: case SIGINT: case SIGPIPE: case SIGTTIN: case SIGTTOU:
        break;
      default:
        sigaddset(&set, s);
    }
  }
  return set;
}

}  // namespace tazpod::init
