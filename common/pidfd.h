// pidfds (Linux 5.3): a process named by a descriptor, not by its pid, which
// the kernel gives to another process once this one has ended and been
// reaped. A signal through a pidfd reaches that process or no one.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace tazpod {

// A pidfd for `pid`, or an empty one with errno set: ESRCH (gone), ENOSYS
// (before Linux 5.3), EPERM (a seccomp profile older than it), EMFILE.
inline UniqueFd OpenPidFd(pid_t pid) { return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))); }

// SO_PEERPIDFD (Linux 6.5), newer than Debian 12's headers.
inline constexpr int kSoPeerPidfd = 77;

// The pidfd of the process that connected to the Unix socket `connection`,
// as the kernel recorded it at connect(): it names that process even once
// its pid has gone to another. Or an empty one with errno set: ENOPROTOOPT
// (before Linux 6.5), ESRCH or EINVAL (the process is gone; EINVAL from
// 6.5 to 6.15), EMFILE.
inline UniqueFd PeerPidFd(int connection) {
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  if (getsockopt(connection, SOL_SOCKET, kSoPeerPidfd, &pidfd, &len) != 0) return UniqueFd();
  return UniqueFd(pidfd);  // close-on-exec, as every pidfd
}

// What the kernel says now of the process `pidfd` names: it has exited
// (its pidfd is readable), it runs, or poll() failed (errno says why).
enum class PidfdPoll { kExited, kRunning, kError };
inline PidfdPoll PollPidFd(int pidfd) {
  struct pollfd exited = {pidfd, POLLIN, 0};
  const int ready = poll(&exited, 1, 0);
  return ready > 0 ? PidfdPoll::kExited : ready == 0 ? PidfdPoll::kRunning : PidfdPoll::kError;
}

// Whether the process `pidfd` names has exited (a failed poll says no).
// Asked again when an event loop says so, since Asio may complete a wait
// for an event that was another descriptor's (common/kernel_timer.h).
inline bool HasExited(int pidfd) { return PollPidFd(pidfd) == PidfdPoll::kExited; }

// `signal` to `pid`, through `pidfd` when there is one (-1 when not): a
// pidfd cannot reach a later holder of the pid. Returns 0, or the errno.
inline int SendSignal(pid_t pid, int pidfd, int signal) {
  const long rc = pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) : kill(pid, signal);
  return rc == 0 ? 0 : errno;
}

}  // namespace tazpod
