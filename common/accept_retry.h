// What a server does when accept(2) fails for good (out of descriptors,
// say): the connection stays queued and the socket readable, so accepting
// again at once would spin PID 1 and write a log line per turn. It tries
// again every 100 ms instead, and says so once per spell of failures.
// Shared by the control socket and the health endpoint.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <exception>
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
      // Accepting again: a failure that lasts (descriptors still short,
      // a client still queued) says so again at once, from the accept
      // itself; one that was not accept's (what admitting a connection
      // threw) is over.
      failing_ = false;
      try {
        again();
      } catch (const std::exception& e) {
        Failed(e.what(), again);
      }
    });
    failing_ = true;
    try {
      error_ = error;
    } catch (const std::exception&) {
      error_.clear();  // out of memory: failing, without saying why
    }
    if (in_spell_) return;
    in_spell_ = true;
    Log(LogLevel::kWarn, event_, {{"error", error}});
  }

  // A connection was accepted: the spell is over.
  void Succeeded() {
    failing_ = false;
    in_spell_ = false;
    error_.clear();
  }

  void Cancel() { timer_.cancel(); }

  // True from a failure until accepting is tried again (kDelay later),
  // and again at once if that fails too: meanwhile clients wait in the
  // listen backlog, or find it full.
  bool failing() const { return failing_; }
  // The last failure's error, while failing; else empty.
  const std::string& error() const { return failing_ ? error_ : kNone; }

 private:
  static inline const std::string kNone;

  KernelTimer timer_;
  const char* event_;
  bool failing_ = false;
  bool in_spell_ = false;  // logged once, until a connection is accepted
  std::string error_;
};

}  // namespace tazpod
