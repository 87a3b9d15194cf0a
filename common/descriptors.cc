#include "common/descriptors.h"

#include <errno.h>
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

bool OpenMissingStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // The lowest free number: this one, since those below it are open.
    // Without O_CLOEXEC: a standard descriptor is there to be inherited.
    int opened = open("/dev/null", O_RDWR);  // NOLINT(android-cloexec-open)
    if (opened != fd) {
      if (opened >= 0) close(opened);
      return false;
    }
  }
  return true;
}

void CloseAboveStderr() {
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  for (long fd = 3, max = DescriptorLimit(); fd < max; ++fd) close(static_cast<int>(fd));
}

}  // namespace tazpod
