#include "common/descriptors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace tazpod {

bool LeavesFewerThan(int newest, unsigned long kept_free) {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  return static_cast<rlim_t>(newest) + kept_free >= limit.rlim_cur;
}

namespace {

// Calls act(fd, context) for each descriptor /proc/self/fd lists, but the
// one it is read through; false when it cannot be read. Async-signal-safe:
// open, getdents64 and close, a buffer on the stack.
bool ForEachListed(void (*act)(int fd, void* context), void* context) {
  const int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  alignas(struct dirent64) char buffer[4096];
  for (;;) {
    const ssize_t n = getdents64(dir, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + at);
      at += entry->d_reclen;
      int fd = 0;
      const char* c = entry->d_name;
      for (; *c >= '0' && *c <= '9'; ++c) fd = fd * 10 + (*c - '0');
      if (*c == '\0' && c != entry->d_name && fd != dir) act(fd, context);
    }
  }
  close(dir);
  return true;
}

// Kernels before 5.11 have no CLOSE_RANGE_CLOEXEC, before 5.9 no
// close_range: `act` goes to each descriptor from 3 up that /proc/self/fd
// lists. Not one by one up to the limit: a container's may be 2^20 or 2^30
// (a million fcntl calls in a vfork child take 0.2 s, a billion 4 minutes),
// and a descriptor opened before the limit was lowered lies above it.
// Without /proc, one by one up to the limit after all.
void ForEachAboveStderr(void (*act)(int fd)) {
  struct Action {
    void (*act)(int fd);
  } action{act};
  const auto above_stderr = [](int fd, void* context) {
    if (fd > 2) static_cast<Action*>(context)->act(fd);
  };
  if (ForEachListed(above_stderr, &action)) return;
  const long limit = sysconf(_SC_OPEN_MAX);
  for (long fd = 3, max = limit > 0 ? limit : 1024; fd < max; ++fd) act(static_cast<int>(fd));
}

void MarkCloseOnExec(int fd) { fcntl(fd, F_SETFD, FD_CLOEXEC); }
void Close(int fd) { close(fd); }

}  // namespace

int CountOpenDescriptors() {
  int count = 0;
  const auto add_one = [](int, void* context) { ++*static_cast<int*>(context); };
  return ForEachListed(add_one, &count) ? count : -1;
}

long DescriptorsLeft(int newest) {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return LONG_MAX;
  const auto cap = static_cast<long>(std::min<rlim_t>(limit.rlim_cur, LONG_MAX));
  const long counted = CountOpenDescriptors();
  if (counted < 0 && (errno == EMFILE || errno == ENFILE)) return 0;
  const long in_use = counted >= 0 ? counted : static_cast<long>(newest) + 1;
  return std::max(cap - in_use, 0L);
}

void CloseOnExecAboveStderr() {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  ForEachAboveStderr(MarkCloseOnExec);
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
  ForEachAboveStderr(Close);
}

}  // namespace tazpod
