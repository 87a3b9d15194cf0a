// Reading a non-blocking pipe in bounded turns. A writer that never pauses
// keeps a pipe from ever emptying, so a reader that reads "until empty" may
// never come back: PID 1's event loop (the helpers' stderr relay) and an
// unlock helper copying its hooks' output both read at most a budget, then
// go on to their other work and read the rest later.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace tazpod {

enum class BoundedRead {
  kEmpty,  // the descriptor would block: everything written so far was read
  kMore,   // `budget` bytes were read; more may wait
  kEnded,  // end of file (every writer closed it), or a read failed
};

// Reads `fd`, which must be non-blocking, in chunks of at most 4 KiB, and
// hands each chunk to `sink` as it comes, until the pipe is empty, `budget`
// bytes have been read, or it ended. Retries EINTR.
BoundedRead ReadUpTo(int fd, size_t budget, const std::function<void(std::string_view)>& sink);

}  // namespace tazpod
