// Backstop: a deadline for the shutdown that can be set when memory is
// short.
//
// The shutdown is a chain of handlers on the event loop. One that fails
// part way (an allocation, in practice) is logged and the loop goes on, but
// the link it was to make is missing: nothing would end the shutdown until
// the runtime's SIGKILL, which skips the vault's lock and init's exit code.
// A Backstop's wait on the loop is started once, before the loop runs,
// while memory is plentiful; setting its deadline later is one
// timerfd_settime(2), which allocates nothing and cannot throw. Unset, its
// timerfd is disarmed and never wakes the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>

namespace tazpod::init {

class Backstop {
 public:
  // Throws boost::system::system_error when the timerfd cannot be made
  // (out of descriptors), as Asio's own objects do.
  Backstop(boost::asio::io_context& io, std::function<void()> on_expiry);

  Backstop(const Backstop&) = delete;
  Backstop& operator=(const Backstop&) = delete;

  // Begins waiting; once, before the loop runs. Throws what Asio throws.
  void Start();

  // `on_expiry` runs on the loop at `when` (at once if it has passed),
  // unless Clear() comes first; a later Set replaces the deadline. It may
  // be Set again after it fired, from `on_expiry` too: the wait is started
  // again before `on_expiry` runs. (That reuses the memory of the wait just
  // ended; should it fail all the same, the Backstop fires no more.)
  void Set(std::chrono::steady_clock::time_point when) noexcept;
  void Clear() noexcept;

 private:
  void Wait();

  boost::asio::posix::stream_descriptor timer_;
  std::function<void()> on_expiry_;
};

}  // namespace tazpod::init
