#include "common/flood_limit.h"

#include <vector>

#include "common/audit.h"

namespace tazpod {

namespace {

constexpr const char* kOtherKeys = "";  // where keys beyond max_keys go

// PID 1's limit: far above what a person at a terminal causes, far below
// what fills a disk (at most 10 lines a second per event and uid).
FloodLimit& PeerLimit() {
  static FloodLimit limit(100, std::chrono::seconds(10));
  return limit;
}

// `fields`, with the count held back before it, when there is one.
std::vector<LogField> WithSuppressed(std::initializer_list<LogField> fields, long long suppressed) {
  std::vector<LogField> all(fields);
  if (suppressed > 0) all.emplace_back("suppressed", suppressed);
  return all;
}

std::string KeyOf(std::string_view event, long long uid) { return std::string(event) + " " + std::to_string(uid); }

}  // namespace

FloodLimit::FloodLimit(int burst, Clock::duration window, std::size_t max_keys)
    : burst_(burst), window_(window), max_keys_(max_keys) {}

void FloodLimit::Forget(Clock::time_point now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now - it->second.start >= window_ && it->second.held == 0) it = windows_.erase(it);
    else ++it;
  }
}

std::optional<long long> FloodLimit::Admit(const std::string& key, Clock::time_point now) {
  if (!windows_.contains(key) && windows_.size() >= max_keys_) Forget(now);
  const std::string followed = windows_.contains(key) || windows_.size() < max_keys_ ? key : kOtherKeys;
  auto it = windows_.try_emplace(followed, Window{now, 0, 0}).first;
  Window& w = it->second;
  if (now - w.start >= window_) {
    w.start = now;
    w.written = 0;
  }
  if (w.written >= burst_) {
    ++w.held;
    return std::nullopt;
  }
  ++w.written;
  const long long held = w.held;
  w.held = 0;
  return held;
}

void LogFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const std::optional<long long> suppressed = PeerLimit().Admit(KeyOf(event, uid), FloodLimit::Clock::now());
  if (suppressed) LogFields(level, event, WithSuppressed(fields, *suppressed));
}

void AuditFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields) {
  const std::optional<long long> suppressed = PeerLimit().Admit(KeyOf(event, uid), FloodLimit::Clock::now());
  if (suppressed) AuditFields(level, event, WithSuppressed(fields, *suppressed));
}

}  // namespace tazpod
