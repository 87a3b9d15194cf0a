// KernelTimer: a one-shot timer on the event loop, with a timerfd of its
// own that is armed only while something waits on it.
//
// Why not boost::asio::steady_timer: Asio's reactor keeps every timer in
// one queue behind one timerfd, and whenever that queue changes it arms the
// timerfd for the next expiry or, with none, for five minutes from now (to
// notice a changed system clock, which CLOCK_MONOTONIC never is); each
// time it fires, it arms it again. So once a timer has been used, PID 1
// woke every five minutes forever, where it must sleep in the kernel when
// nothing happens (docs/init.md). Here nothing is armed but what waits: a
// cancelled or expired timer leaves a disarmed timerfd, and the reactor's
// own is never armed, since its queue stays empty.
//
// The interface is the part of steady_timer that TazPod uses: set the
// expiry (which cancels a pending wait), wait once, cancel. A cancelled
// wait, or one pending when the timer is destroyed, completes with
// operation_aborted. One wait at a time.
#pragma once

#include <sys/timerfd.h>
#include <time.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <utility>

namespace tazpod {

class KernelTimer {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC in libstdc++

  // Throws boost::system::system_error when the timerfd cannot be made
  // (out of descriptors), as Asio's own objects do.
  explicit KernelTimer(const boost::asio::any_io_executor& executor) : fd_(executor, MakeTimerFd()) {}
  explicit KernelTimer(boost::asio::io_context& io) : KernelTimer(io.get_executor()) {}

  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

  void expires_at(Clock::time_point expiry) {
    cancel();
    expiry_ = expiry;
  }
  void expires_after(Clock::duration duration) { expires_at(Clock::now() + duration); }
  Clock::time_point expiry() const { return expiry_; }

  // Calls `handler(error_code)` once the expiry has come (at once when it
  // has passed), or with operation_aborted when cancelled first.
  template <typename Handler>
  void async_wait(Handler&& handler) {
    Arm();
    // The completion does not touch this timer, which may be gone by the
    // time it runs. The expiration count is left unread: the next Arm()
    // clears it.
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, std::forward<Handler>(handler));
  }

  // Disarms the timerfd and aborts a pending wait.
  void cancel() {
    const itimerspec disarmed{};
    (void)timerfd_settime(fd_.native_handle(), 0, &disarmed, nullptr);  // cannot fail on a valid timerfd
    boost::system::error_code ignored;
    fd_.cancel(ignored);
  }

 private:
  static int MakeTimerFd() {
    const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
      throw boost::system::system_error(boost::system::error_code(errno, boost::system::system_category()),
                                        "timerfd_create");
    return fd;
  }

  // Arms for expiry_, absolute. Setting a time also clears the expirations
  // of an earlier arming, so the descriptor turns readable only at this
  // expiry: the reactor watches it edge-triggered, and a wait must see an
  // edge of its own.
  void Arm() {
    const auto since_boot = std::chrono::duration_cast<std::chrono::nanoseconds>(expiry_.time_since_epoch()).count();
    itimerspec when{};
    // A zero time would disarm; an expiry at or before boot has passed.
    const std::int64_t at = since_boot > 0 ? since_boot : 1;
    when.it_value.tv_sec = static_cast<time_t>(at / 1000000000);
    when.it_value.tv_nsec = static_cast<long>(at % 1000000000);
    (void)timerfd_settime(fd_.native_handle(), TFD_TIMER_ABSTIME, &when, nullptr);
  }

  boost::asio::posix::stream_descriptor fd_;
  Clock::time_point expiry_{};
};

}  // namespace tazpod
