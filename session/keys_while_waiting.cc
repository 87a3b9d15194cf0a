#include "session/keys_while_waiting.h"

#include <utility>

namespace tazpod::session {

CallWake AnswerKeysWhileWaiting(KeyboardSignalsHeld& held, int tty_fd, std::string first_answer, SecondKey second) {
  return CallWake{held.fd(), [&held, tty_fd, text = std::move(first_answer), second, answered = false]() mutable {
                    if (!held.TakeNew()) return true;  // woken by nothing new
                    if (answered) return second == SecondKey::kWaits;
                    answered = true;
                    SayOnTerminal(tty_fd, text);
                    return true;
                  }};
}

CallResult AskQuietly(const std::string& socket_path, const nlohmann::json& header, int tty_fd,
                      std::chrono::milliseconds timeout) {
  KeyboardSignalsHeld held;
  EchoOff quiet(tty_fd);
  return Call(socket_path, header, nullptr, timeout, CallWake{held.fd(), [&held] { return !held.TakeNew(); }});
}

}  // namespace tazpod::session
