// Pipes for tests: a pair of owned ends, and a way to read back what a
// process wrote into one.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/unique_fd.h"

namespace tazpod::testing {

// A pipe whose ends close with the test. `flags` as for pipe2(2); both ends
// close-on-exec, so a child the test starts holds neither by accident. A
// failure throws, which Catch2 reports as the test's failure.
struct TestPipe {
  explicit TestPipe(int flags = O_CLOEXEC) {
    int fds[2];
    if (pipe2(fds, flags | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

// Everything the pipe holds now, read without waiting (the read end must be
// non-blocking).
inline std::string ReadWhatWaits(int read_end) {
  std::string text;
  char buffer[8192];
  ssize_t n;
  while ((n = read(read_end, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

}  // namespace tazpod::testing
