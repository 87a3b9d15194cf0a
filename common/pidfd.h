// pidfds (Linux 5.3): a process named by a descriptor, not by its pid, which
// the kernel gives to another process once this one has ended and been
// reaped. A signal through a pidfd reaches that process or no one.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace tazpod {

// A pidfd for `pid`, or an empty one with errno set: ESRCH (gone), ENOSYS
// (before Linux 5.3), EPERM (a seccomp profile older than it), EMFILE.
inline UniqueFd OpenPidFd(pid_t pid) { return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))); }

// `signal` to `pid`, through `pidfd` when there is one (-1 when not): a
// pidfd cannot reach a later holder of the pid. Returns 0, or the errno.
inline int SendSignal(pid_t pid, int pidfd, int signal) {
  const long rc = pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) : kill(pid, signal);
  return rc == 0 ? 0 : errno;
}

}  // namespace tazpod
