// Wording the client commands share (tazpod login, passwd, status), so that
// a user reads the same words for the same thing from each of them.
#pragma once

#include <string>

namespace tazpod::session {

// A wait of `milliseconds` as "N s", rounded up: a wait said as shorter
// than it is would have the user come back too soon.
std::string SecondsText(long long milliseconds);

// `text` as a sentence, then "Next attempt in N s." when `retry_after_ms` is
// positive. The gate's refusals are clauses without a full stop ("…: wait
// before trying again"); one is added where a sentence follows.
std::string WithNextAttempt(std::string text, long long retry_after_ms);

}  // namespace tazpod::session
