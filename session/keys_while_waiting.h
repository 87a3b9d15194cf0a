// What `tazpod login` and `tazpod passwd` do with Ctrl+C, Ctrl+\ and Ctrl+Z
// while PID 1 works on their request. PID 1 does not stop an unlock or a
// passphrase change half way, so a key cannot undo it; but a key met by
// silence for the length of an Argon2 run reads as a hung tool. The first
// key is answered at once with what happens; what a second one does is the
// command's choice.
#pragma once

#include <string>

#include "session/control_client.h"
#include "session/terminal_prompt.h"

namespace tazpod::session {

enum class SecondKey {
  kWaits,   // a second key changes nothing: the answer matters too much (passwd)
  kLeaves,  // a second key ends the wait without the answer (login)
};

// A CallWake for Call(): the first key held by `held` since the call began
// writes `first_answer` to the terminal `tty_fd`; later keys do what
// `second` says. `held` must outlive the call.
CallWake AnswerKeysWhileWaiting(KeyboardSignalsHeld& held, int tty_fd, std::string first_answer, SecondKey second);

}  // namespace tazpod::session
