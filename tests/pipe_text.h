// For tests that read what a process wrote into a pipe: everything the
// pipe holds now, read without waiting (the read end must be non-blocking).
#pragma once

#include <unistd.h>

#include <string>

namespace tazpod::testing {

inline std::string ReadWhatWaits(int read_end) {
  std::string text;
  char buffer[8192];
  ssize_t n;
  while ((n = read(read_end, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

}  // namespace tazpod::testing
