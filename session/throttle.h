// Bad-passphrase throttling for the gate.
//
// Each consecutive wrong passphrase doubles the delay before the next attempt
// is heard, starting at `base` and never above `cap`; a correct passphrase
// resets it. The delay is shared by every login (it is the vault that is being
// guessed at, not a terminal), and it is visible to the user and in the logs.
//
// Pure logic: the caller owns the clock and the waiting. Not thread-safe; the
// supervisor uses it from its event loop only.
#pragma once

#include <chrono>
#include <cstdint>

namespace tazpod::session {

class Throttle {
 public:
  Throttle(std::chrono::milliseconds base, std::chrono::milliseconds cap);

  void RecordFailure();
  void RecordSuccess();

  // How long the next attempt must wait: zero after no failures.
  std::chrono::milliseconds Delay() const;

  std::uint32_t consecutive_failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::uint32_t failures_ = 0;
};

}  // namespace tazpod::session
