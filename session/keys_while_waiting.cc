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

}  // namespace tazpod::session
