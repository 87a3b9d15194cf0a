// Seccomp filters that make a system call fail, for the host tests of what
// TazPod does when the kernel refuses it: no pidfd_open (before Linux 5.3,
// or under seccomp profiles that predate it), no SO_PEERPIDFD (before
// Linux 6.5), no descriptor left, no room for one more epoll watch.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <iterator>

#include "common/pidfd.h"

namespace tazpod::testing {

// From here on, system call `number` fails with `error` in this process and
// those it starts. A filter cannot be taken back, so call it in a process
// of its own. (No check of the architecture: a test filter, not a security
// boundary.) Returns whether the filter is in place.
inline bool DenySyscall(long number, int error) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(number), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(error)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// epoll_ctl(…, EPOLL_CTL_ADD, fd, …) fails with `error` for every `fd` from
// `lowest` up, as the kernel refuses a watch when memory is short (ENOMEM)
// or the user's fs.epoll.max_user_watches is reached (ENOSPC); the
// descriptors already watched stay watched. Descriptors get the lowest free
// number, so `lowest` lets the next one be watched and refuses those after
// it. Returns whether the filter is in place.
inline bool DenyEpollAdd(int error, int lowest = 0) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_ctl, 0, 5),
      // The operation: the second argument's low 32 bits (little-endian).
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 1 * sizeof(__u64)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EPOLL_CTL_ADD, 0, 3),
      // The descriptor: the third argument's low 32 bits.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 2 * sizeof(__u64)),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, static_cast<unsigned>(lowest), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(error)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Whether getsockopt(SO_PEERPIDFD) gives a pidfd here (Linux 6.5); errno
// says why not.
inline bool KernelGivesPeerPidfd() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
  const bool given = PeerPidFd(pair[0]).valid();
  const int error = errno;
  close(pair[0]);
  close(pair[1]);
  errno = error;
  return given;
}

// getsockopt(…, SOL_SOCKET, SO_PEERPIDFD, …) fails with ENOPROTOOPT, as on
// a kernel before Linux 6.5, which does not know the option. Returns
// whether it does.
inline bool DenyPeerPidfd() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsockopt, 0, 3),
      // The option name: the third argument's low 32 bits (little-endian).
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 2 * sizeof(__u64)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(kSoPeerPidfd), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOPROTOOPT),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {static_cast<unsigned short>(std::size(filter)), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
    return false;
  return !KernelGivesPeerPidfd() && errno == ENOPROTOOPT;
}

// pidfd_open fails with `error`: ENOSYS as before Linux 5.3, EPERM as an
// old seccomp profile answers. Returns whether it does.
inline bool DenyPidfdOpen(int error) {
  return DenySyscall(SYS_pidfd_open, error) && syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == error;
}

}  // namespace tazpod::testing
