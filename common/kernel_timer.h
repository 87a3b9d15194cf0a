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
#include <unistd.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "common/unique_fd.h"
#include "common/watch_on_loop.h"

namespace tazpod {

// `when` as an absolute timerfd expiry (TFD_TIMER_ABSTIME on
// CLOCK_MONOTONIC, steady_clock's epoch). A zero time would disarm the
// timerfd and a negative one is refused (EINVAL): an expiry at or before
// the epoch, the machine's boot, is one long past.
inline itimerspec AbsoluteExpiry(std::chrono::steady_clock::time_point when) {
  const std::int64_t since_boot =
      std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  const std::int64_t at = since_boot > 0 ? since_boot : 1;
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(at / 1000000000);
  spec.it_value.tv_nsec = static_cast<long>(at % 1000000000);
  return spec;
}

class KernelTimer {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC in libstdc++

  // Throws boost::system::system_error when the timerfd cannot be made
  // (out of descriptors) or the loop cannot watch it, as Asio's own objects
  // do: for what is made at start, where that ends init.
  explicit KernelTimer(const boost::asio::any_io_executor& executor) : KernelTimer(executor, &open_error_) {
    if (open_error_ != 0)
      throw boost::system::system_error(boost::system::error_code(open_error_, boost::system::system_category()),
                                        "timerfd");
  }
  explicit KernelTimer(boost::asio::io_context& io) : KernelTimer(io.get_executor()) {}

  // The same without throwing, for what PID 1 makes while it runs: `*error`
  // is 0, or the errno why the timer could not be made; the timer is then
  // closed (is_open() is false) and a wait on it completes at once with
  // bad_descriptor.
  KernelTimer(const boost::asio::any_io_executor& executor, int* error) : state_(std::make_shared<State>(executor)) {
    UniqueFd timer_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    *error = timer_fd ? WatchOnLoop(state_->fd, timer_fd) : errno;
  }

  bool is_open() const { return state_->fd.is_open(); }

  // Disarmed, and taken out of the event loop's epoll set, before its
  // descriptor closes. Asio leaves the removal to close(), but a child
  // forked and not yet exec'd (a vault helper) holds a copy, which keeps
  // the timer and its registration alive after this close.
  ~KernelTimer() {
    ++state_->generation;
    Disarm(*state_);
    const int fd = state_->fd.release();  // EPOLL_CTL_DEL; a pending wait is aborted
    if (fd >= 0) ::close(fd);
  }

  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

  void expires_at(Clock::time_point expiry) {
    cancel();
    state_->expiry = expiry;
  }
  void expires_after(Clock::duration duration) { expires_at(Clock::now() + duration); }
  Clock::time_point expiry() const { return state_->expiry; }

  // Calls `handler(error_code)` once the expiry has come (at once when it
  // has passed), or with operation_aborted when cancelled first, or when
  // the expiry is set again or the timer destroyed before the handler ran.
  template <typename Handler>
  void async_wait(Handler&& handler) {
    const std::uint64_t generation = ++state_->generation;
    Arm(*state_);
    state_->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          Wait<std::decay_t<Handler>>{state_, generation, std::forward<Handler>(handler)});
  }

  // Disarms the timerfd and aborts a pending wait.
  void cancel() {
    ++state_->generation;
    Disarm(*state_);
    boost::system::error_code ignored;
    state_->fd.cancel(ignored);
  }

 private:
  // Shared with the pending wait, which may complete after the timer is gone.
  struct State {
    explicit State(const boost::asio::any_io_executor& executor) : fd(executor) {}
    boost::asio::posix::stream_descriptor fd;
    Clock::time_point expiry{};
    std::uint64_t generation = 0;  // of the wait that may complete; any other is aborted
  };

  // A wait's completion. Asio may complete a wait on a descriptor for an
  // event that was not its own: the reactor reuses a closed descriptor's
  // state for the next one opened, and an event read for the old one in the
  // same turn of the loop is then delivered to the new (seen as a control
  // connection's read deadline ending at once while twenty logins raced).
  // So a wait that completes before its expiry waits again.
  template <typename Handler>
  struct Wait {
    std::shared_ptr<State> state;
    std::uint64_t generation;
    Handler handler;
    void operator()(boost::system::error_code ec) {
      if (!ec && state->generation != generation) ec = boost::asio::error::operation_aborted;
      if (!ec && Clock::now() < state->expiry) {
        Arm(*state);  // again: its edge may have passed while nothing waited
        std::shared_ptr<State> keep = state;
        keep->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read, std::move(*this));
        return;
      }
      handler(ec);
    }
  };

  static void Disarm(State& state) {
    const itimerspec disarmed{};
    (void)timerfd_settime(state.fd.native_handle(), 0, &disarmed, nullptr);  // cannot fail on a valid timerfd
  }

  // Arms for the expiry, absolute. Setting a time also clears the
  // expirations of an earlier arming, so the descriptor turns readable only
  // at this expiry: the reactor watches it edge-triggered, and a wait must
  // see an edge of its own.
  static void Arm(State& state) {
    const itimerspec when = AbsoluteExpiry(state.expiry);
    (void)timerfd_settime(state.fd.native_handle(), TFD_TIMER_ABSTIME, &when, nullptr);
  }

  std::shared_ptr<State> state_;
  int open_error_ = 0;  // the throwing constructor's, read once
};

}  // namespace tazpod
