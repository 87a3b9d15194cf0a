#include "init/log_flusher.h"

#include <sys/epoll.h>

#include <boost/asio/post.hpp>

#include "common/log.h"

namespace tazpod::init {

LogFlusher::LogFlusher(boost::asio::io_context& io, int log_fd)
    : io_(io), room_(epoll_create1(EPOLL_CLOEXEC)) {
  // Level-triggered, for room only: a terminal's input must not make the
  // set readable.
  struct epoll_event event {};
  event.events = EPOLLOUT;
  if (room_ && epoll_ctl(room_.get(), EPOLL_CTL_ADD, log_fd, &event) != 0) room_.Reset();
  // Called under the log's lock, from any thread: only hands over to the loop.
  SetLogWaitingCallback([this] { boost::asio::post(io_, [this] { Watch(); }); });
}

LogFlusher::~LogFlusher() {
  SetLogWaitingCallback(nullptr);
  StopWatch();
}

void LogFlusher::Watch() {
  if (watch_ || !room_) return;
  // The set, made once (made here, a failure for want of descriptors would
  // leave the lines waiting for the next one logged): Asio is made to let
  // go of it, never to close it.
  watch_.emplace(io_);
  boost::system::error_code refused;
  watch_->assign(room_.get(), refused);
  if (refused) {
    // epoll refused the watch (out of memory, fs.epoll.max_user_watches:
    // common/watch_on_loop.h). Not thrown out of the loop, which would mark
    // it failed: the lines go out with the next one logged, which flushes
    // what waits first.
    watch_.reset();
    return;
  }
  watch_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    StopWatch();
    if (FlushLog()) Watch();
  });
}

void LogFlusher::StopWatch() {
  if (!watch_) return;
  (void)watch_->release();  // room_ keeps it
  watch_.reset();
}

}  // namespace tazpod::init
