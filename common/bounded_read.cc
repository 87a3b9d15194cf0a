#include "common/bounded_read.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace tazpod {

BoundedRead ReadUpTo(int fd, size_t budget, const std::function<void(std::string_view)>& sink) {
  std::array<char, 4096> chunk;
  for (size_t read_so_far = 0; read_so_far < budget;) {
    const ssize_t n = read(fd, chunk.data(), std::min(chunk.size(), budget - read_so_far));
    if (n > 0) {
      sink(std::string_view(chunk.data(), static_cast<size_t>(n)));
      read_so_far += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? BoundedRead::kEmpty : BoundedRead::kEnded;
  }
  return BoundedRead::kMore;
}

}  // namespace tazpod
