#include "session/throttle.h"

#include <algorithm>

namespace tazpod::session {

Throttle::Throttle(std::chrono::milliseconds base, std::chrono::milliseconds cap)
    : base_(std::max(base, std::chrono::milliseconds(0))),
      cap_(std::max(cap, base_)) {}

void Throttle::RecordFailure() {
  // Saturate instead of wrapping: a wrapped counter would reset the delay.
  if (failures_ != UINT32_MAX) ++failures_;
}

void Throttle::RecordSuccess() { failures_ = 0; }

std::chrono::milliseconds Throttle::Delay() const {
  if (failures_ == 0 || base_.count() == 0) return std::chrono::milliseconds(0);
  // Double base_ (failures_ - 1) times, stopping at the cap so the
  // arithmetic never overflows however many failures there were.
  std::chrono::milliseconds delay = base_;
  for (std::uint32_t i = 1; i < failures_ && delay < cap_; ++i) delay *= 2;
  return std::min(delay, cap_);
}

}  // namespace tazpod::session
