#include "common/no_core_dumps.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tazpod {

bool ForbidCoreDumps(struct rlimit* previous) {
  if (previous && getrlimit(RLIMIT_CORE, previous) != 0) return false;
  struct rlimit none {0, previous ? previous->rlim_max : 0};
  const bool limited = setrlimit(RLIMIT_CORE, &none) == 0;
  const bool undumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
  return limited && undumpable;
}

std::string CheckNotTraced() {
  // read(2), not a stream: this runs before every passphrase prompt, and
  // the status is a few hundred bytes.
  char status[4096];
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, status, sizeof status - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return "cannot read /proc/self/status to tell whether another process traces this one";
  status[n] = '\0';
  const char* line = std::strstr(status, "\nTracerPid:");
  if (!line) return "no TracerPid in /proc/self/status to tell whether another process traces this one";
  const long tracer = std::strtol(line + std::strlen("\nTracerPid:"), nullptr, 10);
  if (tracer == 0) return "";
  return "traced by process " + std::to_string(tracer) + " (a debugger or strace), which would see the passphrase";
}

}  // namespace tazpod
