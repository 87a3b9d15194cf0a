// What a server does when accept(2) fails for good (out of descriptors,
// say): the connection stays queued and the socket readable, so accepting
// again at once would spin PID 1 and write a log line per turn. It tries
// again every 100 ms instead, and says so once per spell of failures.
// Shared by the control socket and the health endpoint.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "common/kernel_timer.h"
#include "common/log.h"

namespace tazpod {

class AcceptRetry {
 public:
  static constexpr std::chrono::milliseconds kDelay{100};

  // `event` is logged (warn, with `error`) at the first failure of a spell.
  AcceptRetry(boost::asio::io_context& io, const char* event) : timer_(io), event_(event) {}

  // Accepting failed with `error`: calls `again` after kDelay, unless
  // Cancel() comes first (or this object goes: `again` is then dropped).
  // Should `again` throw (an allocation, as it starts the next accept),
  // that is one more failure, retried the same way: else the server would
  // stop accepting for good.
  void Failed(const std::string& error, std::function<void()> again) {
    // The retry first: should what follows throw, accepting still resumes.
    timer_.expires_after(kDelay);
    timer_.async_wait([this, again = std::move(again)](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled, or this object is gone: `this` is not touched
      try {
        again();
      } catch (const std::exception& e) {
        Failed(e.what(), again);
      }
    });
    if (failing_) return;
    failing_ = true;
    Log(LogLevel::kWarn, event_, {{"error", error}});
    error_ = error;
  }

  // A connection was accepted: the spell is over.
  void Succeeded() {
    failing_ = false;
    error_.clear();
  }

  void Cancel() { timer_.cancel(); }

  // True from a failure until the next connection accepted: meanwhile
  // clients wait in the listen backlog, or find it full.
  bool failing() const { return failing_; }
  // The spell's first error; empty when not failing.
  const std::string& error() const { return error_; }

 private:
  KernelTimer timer_;
  const char* event_;
  bool failing_ = false;
  std::string error_;
};

}  // namespace tazpod
