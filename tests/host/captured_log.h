// The log lines (common/log.h) written while a CapturedLog lives, in the
// text format from `level` up, for host tests that check what was logged.
// Back to stderr at info when it ends.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "common/log.h"
#include "common/unique_fd.h"

namespace tazpod::testing {

class CapturedLog {
 public:
  explicit CapturedLog(LogLevel level = LogLevel::kInfo) : fd_(memfd_create("log", MFD_CLOEXEC)) {
    if (fd_) ConfigureLog(LogFormat::kText, level, fd_.get());
  }
  ~CapturedLog() { ConfigureLog(LogFormat::kText, LogLevel::kInfo, 2); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  bool valid() const { return fd_.valid(); }

  // Everything written so far.
  std::string Text() const {
    std::string text;
    char buffer[4096];
    ssize_t n = 0;
    off_t at = 0;
    while ((n = pread(fd_.get(), buffer, sizeof buffer, at)) > 0) {
      text.append(buffer, static_cast<size_t>(n));
      at += n;
    }
    return text;
  }

 private:
  UniqueFd fd_;
};

}  // namespace tazpod::testing
