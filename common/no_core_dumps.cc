#include "common/no_core_dumps.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string_view>

namespace tazpod {

bool ForbidCoreDumps(struct rlimit* previous) {
  if (previous && getrlimit(RLIMIT_CORE, previous) != 0) return false;
  struct rlimit none {0, previous ? previous->rlim_max : 0};
  const bool limited = setrlimit(RLIMIT_CORE, &none) == 0;
  const bool undumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
  return limited && undumpable;
}

std::string CheckNotTraced() {
  // read(2) and string_view, not a stream or strstr: this binary is also
  // PID 1, whose start binds every libc function it imports.
  char status[4096];
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  const ssize_t n = fd >= 0 ? read(fd, status, sizeof status) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return "cannot read /proc/self/status to tell whether another process traces this one";
  const std::string_view text(status, static_cast<size_t>(n));
  constexpr std::string_view kKey = "\nTracerPid:";
  size_t at = text.find(kKey);
  if (at == std::string_view::npos)
    return "no TracerPid in /proc/self/status to tell whether another process traces this one";
  at += kKey.size();
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
  size_t end = at;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  const std::string_view tracer = text.substr(at, end - at);
  if (tracer.empty()) return "no TracerPid in /proc/self/status to tell whether another process traces this one";
  if (tracer == "0") return "";
  return "traced by process " + std::string(tracer) + " (a debugger or strace), which would see the passphrase";
}

std::string PrepareToReadPassphrase(struct rlimit* previous) {
  if (!ForbidCoreDumps(previous)) return "cannot protect the passphrase from core dumps and ptrace";
  return CheckNotTraced();
}

}  // namespace tazpod
