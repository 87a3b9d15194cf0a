#include "common/audit.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tazpod {

namespace {

int audit_fd = -1;  // lives as long as the process; closed on exec
// Since the last write that failed or fell short (a full disk): how many
// events the file lacks. Said on stderr when it starts and when it ends.
bool failing = false;
long long dropped = 0;
// The last write fell short: the file ends inside a line.
bool torn = false;

}  // namespace

std::string OpenAuditFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  if (audit_fd >= 0) close(audit_fd);
  audit_fd = fd;
  failing = false;
  dropped = 0;
  torn = false;
  return "";
}

void Audit(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  Log(level, event, fields);
  if (audit_fd < 0) return;
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t unix_ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  std::string line = FormatLogLine(LogFormat::kJson, unix_ms, level, event, fields);
  // A line cut short by a full disk is ended first, so that it spoils no
  // other: a reader skips one line that is not JSON.
  if (torn) line.insert(0, 1, '\n');
  // One append: lines never interleave. An event that cannot be written is
  // dropped (it is on stderr still): the trail must not stop PID 1. But
  // the gap is said, when it opens and when it closes, with its size.
  const ssize_t written = write(audit_fd, line.data(), line.size());
  if (written == static_cast<ssize_t>(line.size())) {
    torn = false;
    if (failing) Log(LogLevel::kInfo, "audit.write_resumed", {{"dropped", dropped}});
    failing = false;
    dropped = 0;
    return;
  }
  const int error = written < 0 ? errno : ENOSPC;  // short: the disk filled up
  if (written > 0) torn = true;
  if (!failing) Log(LogLevel::kError, "audit.write_failed", {{"error", std::strerror(error)}});
  failing = true;
  ++dropped;
}

}  // namespace tazpod
