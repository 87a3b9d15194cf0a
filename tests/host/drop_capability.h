// Docker's default capabilities lack CAP_SYS_PTRACE (and compose.yaml's set
// adds only CAP_SYS_ADMIN): the host tests of what TazPod does as root in
// such a container drop it from a process of their own.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tazpod::testing {

// Drops capability `cap` (below 32) from this process's effective,
// permitted and inheritable sets, for good. Returns whether it is gone.
inline bool DropCapability(unsigned cap) {
  struct __user_cap_header_struct header {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] {};
  if (cap >= 32 || syscall(SYS_capget, &header, data) != 0) return false;
  const unsigned bit = 1u << cap;
  data[0].effective &= ~bit;
  data[0].permitted &= ~bit;
  data[0].inheritable &= ~bit;
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace tazpod::testing
