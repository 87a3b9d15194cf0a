#include "common/flood_limit.h"

#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "common/audit.h"

namespace tazpod {

namespace {

constexpr const char* kShared = "*";  // the member for keys beyond max_keys

// PID 1's limit: far above what a person at a terminal causes, far below
// what fills a disk (at most 10 lines a second per event and uid).
FloodLimit& PeerLimit() {
  static FloodLimit limit(100, std::chrono::seconds(10));
  return limit;
}

// The events that went through AuditFromPeer: their counts belong in the
// audit file too.
std::set<std::string>& AuditEvents() {
  static std::set<std::string> events;
  return events;
}

// `fields`, with the count held back before it, when there is one.
std::vector<LogField> WithSuppressed(std::initializer_list<LogField> fields, long long suppressed) {
  std::vector<LogField> all(fields);
  if (suppressed > 0) all.emplace_back("suppressed", suppressed);
  return all;
}

}  // namespace

FloodLimit::FloodLimit(int burst, Clock::duration window, std::size_t max_keys)
    : burst_(burst), window_(window), max_keys_(max_keys) {}

void FloodLimit::Forget(Clock::time_point now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now - it->second.start >= window_ && it->second.held == 0) it = windows_.erase(it);
    else ++it;
  }
}

std::optional<long long> FloodLimit::Admit(const std::string& group, const std::string& member,
                                           Clock::time_point now) {
  std::pair<std::string, std::string> key(group, member);
  if (!windows_.contains(key) && windows_.size() >= max_keys_) Forget(now);
  if (!windows_.contains(key) && windows_.size() >= max_keys_) key = {group, std::string(kShared)};
  Window& w = windows_.try_emplace(key, Window{now, 0, 0}).first->second;
  if (now - w.start >= window_) {
    w.start = now;
    w.written = 0;
  }
  if (w.written >= burst_) {
    ++w.held;
    return std::nullopt;
  }
  ++w.written;
  return std::exchange(w.held, 0);
}

void FloodLimit::TakeHeld(const std::function<void(const std::string&, const std::string&, long long)>& held) {
  for (auto& [key, w] : windows_) {
    if (w.held > 0) held(key.first, key.second, std::exchange(w.held, 0));
  }
}

void LogFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const std::optional<long long> suppressed =
      PeerLimit().Admit(std::string(event), std::to_string(uid), FloodLimit::Clock::now());
  if (suppressed) LogFields(level, event, WithSuppressed(fields, *suppressed));
}

void AuditFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields) {
  AuditEvents().emplace(event);
  const std::optional<long long> suppressed =
      PeerLimit().Admit(std::string(event), std::to_string(uid), FloodLimit::Clock::now());
  if (suppressed) AuditFields(level, event, WithSuppressed(fields, *suppressed));
}

void FlushFloodCounts() {
  PeerLimit().TakeHeld([](const std::string& event, const std::string& uid, long long count) {
    // The uid as a number, as the lines held back had it ("*": many).
    char* end = nullptr;
    const long long number = std::strtoll(uid.c_str(), &end, 10);
    const LogField uid_field = *end == '\0' && end != uid.c_str() ? LogField("uid", number) : LogField("uid", uid);
    const std::vector<LogField> fields = {{"event", event}, uid_field, {"suppressed", count}};
    if (AuditEvents().contains(event)) AuditFields(LogLevel::kWarn, "log.suppressed", fields);
    else LogFields(LogLevel::kWarn, "log.suppressed", fields);
  });
}

}  // namespace tazpod
