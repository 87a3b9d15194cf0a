// Lines any local process can make PID 1 write at will, one per attempt: a
// connection to the control socket refused, a malformed request, a login
// refused before any vault work. A loop of attempts would write without
// bound to the log (Docker's default json-file driver keeps all of it, on
// the host's disk) and to the audit file.
//
// So those lines go through a flood limit, as journald rate-limits a
// service: per event and peer uid (so that one user's flood holds back no
// other's lines), a burst of lines per window; beyond it, lines are
// counted, not written, and the next line written for that event and uid
// says how many were held back (`suppressed=N`). Events bounded elsewhere
// (a wrong passphrase, each behind the throttle's delay) do not go through
// it. No timer: an idle PID 1 stays asleep, so a count still held when the
// flood stops is said by the next line, or at exit (FlushFloodCounts).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/log.h"

namespace tazpod {

class FloodLimit {
 public:
  using Clock = std::chrono::steady_clock;

  // `burst` lines per key in each `window`; at most `max_keys` keys are
  // followed apart, and beyond them the members of one group share one.
  FloodLimit(int burst, Clock::duration window, std::size_t max_keys = 256);

  // Whether a line for `member` of `group` (an event, a uid) may be written
  // at `now`: nullopt when it is held back, else how many were held back
  // for it since its last line written (0 mostly).
  std::optional<long long> Admit(const std::string& group, const std::string& member, Clock::time_point now);

  // Calls `held(group, member, count)` for every key with lines held back
  // (member "*" for a group's shared key), and forgets them.
  void TakeHeld(const std::function<void(const std::string&, const std::string&, long long)>& held);

 private:
  struct Window {
    Clock::time_point start;
    int written = 0;
    long long held = 0;
  };
  // Drops the keys whose window has ended with nothing held back.
  void Forget(Clock::time_point now);

  int burst_;
  Clock::duration window_;
  std::size_t max_keys_;
  std::map<std::pair<std::string, std::string>, Window> windows_;
};

// Log and Audit (common/audit.h) for a line caused by the process of `uid`
// (-1 when unknown), through PID 1's flood limit: 100 lines per event and
// uid in 10 s. From PID 1's loop thread only.
void LogFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields);
void AuditFromPeer(LogLevel level, std::string_view event, long long uid, std::initializer_list<LogField> fields);

// Says what is still held back, as one `log.suppressed` line (event, uid,
// suppressed) per event and uid: an audit line for an audit event. PID 1
// calls it as it exits.
void FlushFloodCounts();

}  // namespace tazpod
