#include "init/stderr_relay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include "common/log.h"
#include "common/watch_on_loop.h"

namespace tazpod::init {

StderrRelay::StderrRelay(boost::asio::io_context& io) : reader_(io) {
  if (int err = Open(); err != 0) {
    Log(LogLevel::kWarn, "vault.helper.stderr_unrelayed", {{"error", std::strerror(err)}});
    return;
  }
  Watch();
}

int StderrRelay::Open() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return errno;
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  // Only the read end is non-blocking: a writer must wait for room, never
  // lose a line to EAGAIN. PID 1 makes room as fast as the lines come.
  if (fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) return errno;
  if (const int size = fcntl(read_end.get(), F_GETPIPE_SZ); size > 0) pipe_size_ = static_cast<size_t>(size);
  // A relay that cannot start must not take the vault with it.
  if (int refused = WatchOnLoop(reader_, read_end)) return refused;
  write_end_ = std::move(write_end);
  return 0;
}

StderrRelay::~StderrRelay() { EndLine(); }

// The loop only learns that the pipe is readable; the bytes are read by
// Read, here and in Drain alike. A read the loop had made in advance would
// hold bytes that a Drain before its handler ran would overtake.
void StderrRelay::Watch() {
  reader_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;  // destroyed: `this` is gone
    if (!ec) ReadOnTurns();
  });
}

void StderrRelay::ReadOnTurns() {
  switch (Read(kTurnBytes)) {
    case BoundedRead::kEmpty:
      return Watch();
    case BoundedRead::kMore:
      // Posted, not watched: the loop's epoll reports a pipe that became
      // readable, not one that still is, so a wait would sleep on the rest
      // until the next write.
      if (!alive_) alive_ = std::make_shared<char>();
      return boost::asio::post(reader_.get_executor(), [this, alive = std::weak_ptr<char>(alive_)] {
        if (!alive.expired()) ReadOnTurns();
      });
    case BoundedRead::kEnded:
      // The pipe ends only if its write end is closed, which PID 1 never
      // does while it lives; should it end or fail, the watch stops rather
      // than spin.
      return;
  }
}

void StderrRelay::Drain() {
  if (reader_.is_open()) (void)Read(pipe_size_);
}

BoundedRead StderrRelay::Read(size_t budget) {
  return ReadUpTo(reader_.native_handle(), budget, [this](std::string_view bytes) { lines_.Take(bytes); });
}

void StderrRelay::EndLine() { lines_.End(); }

}  // namespace tazpod::init
