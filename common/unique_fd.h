// UniqueFd: sole owner of a file descriptor.
//
// The destructor closes the descriptor, so no error path leaks one. Move-only.
// Close() reports the error of close(2) where the caller must know it (for a
// file just written); the destructor ignores it, as there is nobody to tell.
#pragma once

#include <unistd.h>

#include <cerrno>

#include <utility>

namespace tazpod {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and takes `fd`.
  void Reset(int fd = -1) {
    int old = std::exchange(fd_, fd);
    // close(2) must not be retried on EINTR on Linux: the fd is gone either way.
    if (old >= 0) ::close(old);
  }

  // Closes now and returns 0, or the errno of close(2).
  int Close() {
    int old = std::exchange(fd_, -1);
    if (old < 0) return 0;
    return ::close(old) == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

}  // namespace tazpod
