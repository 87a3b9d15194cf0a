// A seccomp filter that makes pidfd_open fail, for the host tests of what
// TazPod does on kernels without it (before Linux 5.3) or under seccomp
// profiles that predate it.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <iterator>

namespace tazpod::testing {

// From here on, pidfd_open fails with `error` in this process and those it
// starts: ENOSYS as before Linux 5.3, EPERM as an old seccomp profile
// answers. A filter cannot be taken back, so call it in a process of its
// own. (No check of the architecture: a test filter, not a security
// boundary.) Returns whether the filter is in place and works.
inline bool DenyPidfdOpen(int error) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(error)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0 &&
         syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == error;
}

}  // namespace tazpod::testing
