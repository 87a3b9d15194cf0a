#include "common/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tazpod {

namespace {

int audit_fd = -1;  // lives as long as the process; closed on exec
// Since an event could not be appended (a full disk): how many the file
// lacks (0: none). Said when the gap opens, and when it closes.
long long dropped = 0;
// The file ends inside a line: a write fell short.
bool torn = false;

// Appends `text`, whole lines, to the audit file, after ending a torn line
// (so that it spoils no other: a reader skips one line that is not JSON).
// One write; after a short one, the rest, until a write fails: that one
// gives the real error (ENOSPC, EDQUOT, EFBIG), in *error. True when all
// of it went out.
bool Append(std::string text, int* error) {
  if (torn) text.insert(0, 1, '\n');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(audit_fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      *error = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (done > 0) torn = text[done - 1] != '\n';
  return done == text.size();
}

}  // namespace

std::string OpenAuditFile(const std::string& path) {
  // Only a regular file: a FIFO put in its place (by whoever may write its
  // directory) would block PID 1 at this open with no reader, and later at
  // a write once its reader stopped reading. O_NONBLOCK keeps the open
  // from waiting; a regular file's writes ignore it.
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0 && errno == ENXIO) return path + " is not a regular file";  // a FIFO with no reader, a socket
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  struct stat opened {};
  if (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
    close(fd);
    return path + " is not a regular file";
  }
  if (audit_fd >= 0) close(audit_fd);
  audit_fd = fd;
  dropped = 0;
  // The file is kept across restarts: an earlier run's full disk may have
  // left it ending inside a line. Looked at through a descriptor of its own:
  // the one kept only ever writes.
  torn = false;
  const int peek = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  struct stat st {};
  char last = '\n';
  if (peek >= 0) {
    torn = fstat(peek, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && pread(peek, &last, 1, st.st_size - 1) == 1 &&
           last != '\n';
    close(peek);
  }
  return "";
}

void Audit(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  AuditFields(level, event, std::vector<LogField>(fields));
}

void AuditFields(LogLevel level, std::string_view event, const std::vector<LogField>& fields) {
  LogFields(level, event, fields);
  if (audit_fd < 0) return;
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t unix_ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  // An event that cannot be appended is dropped (it is on stderr, if the
  // log level lets it through): the trail must not stop PID 1. But the gap
  // is said: on stderr when it opens; when it closes, there and in the file
  // itself (audit.gap, before the next event), with its size.
  int error = 0;
  if (dropped > 0) {
    const std::string gap =
        FormatLogLine(LogFormat::kJson, unix_ms, LogLevel::kWarn, "audit.gap", {{"dropped", dropped}});
    if (Append(gap, &error)) {
      Log(LogLevel::kInfo, "audit.write_resumed", {{"dropped", dropped}});
      dropped = 0;
    }
  }
  if (dropped == 0 && Append(FormatLogLine(LogFormat::kJson, unix_ms, level, event, fields), &error)) return;
  if (dropped == 0) Log(LogLevel::kError, "audit.write_failed", {{"error", std::strerror(error)}});
  ++dropped;
}

}  // namespace tazpod
