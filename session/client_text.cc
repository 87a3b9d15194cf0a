#include "session/client_text.h"

namespace tazpod::session {

std::string SecondsText(long long milliseconds) {
  const long long seconds = milliseconds <= 0 ? 0 : milliseconds / 1000 + (milliseconds % 1000 != 0 ? 1 : 0);
  return std::to_string(seconds) + " s";
}

std::string WithNextAttempt(std::string text, long long retry_after_ms) {
  if (retry_after_ms <= 0) return text;
  if (!text.empty() && text.back() != '.' && text.back() != '!' && text.back() != '?') text += '.';
  return text + " Next attempt in " + SecondsText(retry_after_ms) + ".";
}

}  // namespace tazpod::session
