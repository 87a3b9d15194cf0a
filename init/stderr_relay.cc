#include "init/stderr_relay.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace tazpod::init {

StderrRelay::StderrRelay(boost::asio::io_context& io) : reader_(io) {
  int fds[2];
  // Only the read end is non-blocking: a writer must wait for room, never
  // lose a line to EAGAIN. PID 1 makes room as fast as the lines come.
  if (pipe2(fds, O_CLOEXEC) != 0) {
    Log(LogLevel::kWarn, "vault.helper.stderr_unrelayed", {{"error", std::strerror(errno)}});
    return;
  }
  write_end_.Reset(fds[1]);
  reader_.assign(fds[0]);
  boost::system::error_code ignored;
  reader_.non_blocking(true, ignored);
  Read();
}

StderrRelay::~StderrRelay() { EndLine(); }

void StderrRelay::Read() {
  reader_.async_read_some(boost::asio::buffer(chunk_), [this](const boost::system::error_code& ec, size_t n) {
    if (ec == boost::asio::error::operation_aborted) return;  // destroyed: `this` is gone
    Take(std::string_view(chunk_.data(), n));
    // Only while PID 1 holds the write end, which it does for as long as it
    // lives; on any other error the relay stops rather than spin.
    if (!ec) Read();
  });
}

void StderrRelay::Drain() {
  if (!reader_.is_open()) return;
  for (;;) {
    const ssize_t n = read(reader_.native_handle(), chunk_.data(), chunk_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: nothing more for now
    Take(std::string_view(chunk_.data(), static_cast<size_t>(n)));
  }
}

void StderrRelay::EndLine() {
  if (partial_.empty()) return;
  PassOnLine(partial_);
  partial_.clear();
}

void StderrRelay::Take(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    const size_t room = kMaxLine - partial_.size();
    if (newline != std::string_view::npos && newline < room) {
      // Most lines come whole in one read: passed on without a copy.
      if (partial_.empty()) {
        PassOnLine(bytes.substr(0, newline + 1));
      } else {
        partial_.append(bytes.substr(0, newline + 1));
        PassOnLine(partial_);
        partial_.clear();
      }
      bytes.remove_prefix(newline + 1);
      continue;
    }
    const size_t take = std::min(bytes.size(), room);
    partial_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (partial_.size() == kMaxLine) EndLine();
  }
}

}  // namespace tazpod::init
