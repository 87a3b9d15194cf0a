#include "init/backstop.h"

#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <boost/system/system_error.hpp>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "common/kernel_timer.h"

namespace tazpod::init {
namespace {

int MakeTimerFd() {
  const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) throw boost::system::system_error(errno, boost::system::system_category(), "timerfd_create");
  return fd;
}

}  // namespace

Backstop::Backstop(boost::asio::io_context& io, std::function<void()> on_expiry)
    : timer_(io, MakeTimerFd()), on_expiry_(std::move(on_expiry)) {}

void Backstop::Start() { Wait(); }

void Backstop::Set(std::chrono::steady_clock::time_point when) noexcept {
  const itimerspec spec = AbsoluteExpiry(when);
  (void)timerfd_settime(timer_.native_handle(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Backstop::Clear() noexcept {
  struct itimerspec spec {};
  (void)timerfd_settime(timer_.native_handle(), 0, &spec, nullptr);
}

void Backstop::Wait() {
  timer_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // aborted: the Backstop is being destroyed
    // The loop may wake a wait on one descriptor for another's event
    // (common/kernel_timer.h): only a read that counts an expiry is one.
    std::uint64_t expirations = 0;
    if (read(timer_.native_handle(), &expirations, sizeof expirations) != sizeof expirations) {
      Wait();
      return;
    }
    try {
      Wait();
    } catch (...) {
      // No memory for the next wait: this expiry is still acted on.
    }
    on_expiry_();
  });
}

}  // namespace tazpod::init
