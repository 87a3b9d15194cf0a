#include "common/audit.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tazpod {

namespace {

int audit_fd = -1;  // lives as long as the process; closed on exec

}  // namespace

std::string OpenAuditFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  if (audit_fd >= 0) close(audit_fd);
  audit_fd = fd;
  return "";
}

void Audit(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  Log(level, event, fields);
  if (audit_fd < 0) return;
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t unix_ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  const std::string line = FormatLogLine(LogFormat::kJson, unix_ms, level, event, fields);
  // One append: lines never interleave. A failed write is dropped, as a log
  // line is: the trail must not stop PID 1.
  ssize_t ignored = write(audit_fd, line.data(), line.size());
  (void)ignored;
}

}  // namespace tazpod
