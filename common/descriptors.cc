#include "common/descriptors.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tazpod {

namespace {

// Kernels before 5.11 have no close_range: go one by one up to the limit.
long DescriptorLimit() {
  long max = sysconf(_SC_OPEN_MAX);
  return max > 0 ? max : 1024;
}

}  // namespace

void CloseOnExecAboveStderr() {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (long fd = 3, max = DescriptorLimit(); fd < max; ++fd) fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

void CloseAboveStderr() {
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  for (long fd = 3, max = DescriptorLimit(); fd < max; ++fd) close(static_cast<int>(fd));
}

}  // namespace tazpod
