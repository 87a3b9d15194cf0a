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
  CallResult result =
      Call(socket_path, header, nullptr, timeout, CallWake{held.fd(), [&held] { return !held.TakeNew(); }});
  // A key that came with the reply: Call read the reply first, and leaves
  // the key to its caller.
  if (held.Interrupted()) result.abandoned = true;
  return result;
}

}  // namespace tazpod::session
