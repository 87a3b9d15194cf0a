#include "common/log_output.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace tazpod {

namespace {

bool IsSocket(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

LogOutput::LogOutput(int fd, size_t max_waiting) : fd_(fd), is_socket_(IsSocket(fd)), max_waiting_(max_waiting) {}

bool LogOutput::Write(std::string_view line) {
  if (waiting()) {
    if (waiting_.size() + line.size() > max_waiting_) {
      ++dropped_;
      return false;
    }
    waiting_.append(line);
    return true;
  }
  const size_t written = WriteNow(line);
  if (written == 0 && line.size() > max_waiting_) {
    ++dropped_;
    return false;
  }
  // The rest of a line begun is kept whatever the bound: a cut line would
  // run into the next one.
  waiting_.append(line.substr(written));
  return true;
}

void LogOutput::Flush() {
  // Whole lines, at most PIPE_BUF bytes a write: a pipe takes such a write
  // whole or not at all, so no other writer of the pipe (the main child
  // shares it) can put a line into the middle of one of ours. One write of
  // everything that waits would be cut wherever the room ran out.
  size_t done = 0;
  while (done < waiting_.size()) {
    const std::string_view rest = std::string_view(waiting_).substr(done);
    size_t end = rest.substr(0, PIPE_BUF).rfind('\n');
    // The first line is longer than PIPE_BUF (or is what is left of one
    // begun): written alone, as Write() did, since it can be cut anyway.
    if (end == std::string_view::npos) end = rest.find('\n');
    const size_t chunk = end == std::string_view::npos ? rest.size() : end + 1;
    const size_t written = WriteNow(rest.substr(0, chunk));
    done += written;
    if (written < chunk) break;
  }
  waiting_.erase(0, done);
}

size_t LogOutput::TakeDropped() {
  const size_t n = dropped_;
  dropped_ = 0;
  return n;
}

size_t LogOutput::WriteNow(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    // MSG_NOSIGNAL: a reader gone is EPIPE, dropped like any error, not a
    // SIGPIPE (PID 1 ignores it; a client of this class might not).
    const ssize_t n = is_socket_ ? ::send(fd_, data.data() + done, data.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                                 : ::write(fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      break;
    } else {
      return data.size();  // nowhere to report a logging failure: dropped
    }
  }
  return done;
}

UniqueFd OpenNonBlocking(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return {};
  if (S_ISSOCK(st.st_mode)) return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!S_ISFIFO(st.st_mode) && !(S_ISCHR(st.st_mode) && isatty(fd))) return {};
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  return UniqueFd(open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
}

}  // namespace tazpod
