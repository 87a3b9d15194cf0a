#include "init/log_flusher.h"

#include <fcntl.h>

#include <boost/asio/post.hpp>

#include "common/log.h"

namespace tazpod::init {

LogFlusher::LogFlusher(boost::asio::io_context& io, int log_fd) : io_(io), log_fd_(log_fd) {
  // Called under the log's lock, from any thread: only hands over to the loop.
  SetLogWaitingCallback([this] { boost::asio::post(io_, [this] { Watch(); }); });
}

LogFlusher::~LogFlusher() { SetLogWaitingCallback(nullptr); }

void LogFlusher::Watch() {
  if (watch_) return;
  // A copy of the descriptor, for Asio to own and close: the log keeps its own.
  const int fd = fcntl(log_fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return;  // out of descriptors: the next line written flushes what waits
  watch_.emplace(io_, fd);
  watch_->async_wait(boost::asio::posix::stream_descriptor::wait_write, [this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    watch_.reset();
    if (FlushLog()) Watch();
  });
}

}  // namespace tazpod::init
