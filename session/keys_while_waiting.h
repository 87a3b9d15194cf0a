// What `tazpod login` and `tazpod passwd` do with Ctrl+C, Ctrl+\ and Ctrl+Z
// while PID 1 works on their request. PID 1 does not stop an unlock or a
// passphrase change half way, so a key cannot undo it; but a key met by
// silence for the length of an Argon2 run reads as a hung tool. The first
// key is answered at once with what happens; what a second one does is the
// command's choice. A request that only asks is simply left.
#pragma once

#include <chrono>
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

// Calls `header`, a request that only asks (gate.status, before a prompt),
// with the terminal `tty_fd` quiet and its keys held. A busy PID 1 may take
// seconds to answer: a passphrase typed ahead meanwhile must not show (the
// prompt discards it), and Ctrl+C, Ctrl+\ or Ctrl+Z (one the caller does
// not ignore or block) ends the wait at once, `abandoned` (also when it
// came with the reply), so that the caller says so and exits with the code
// its prompt would give such a key, rather than die of the signal.
CallResult AskQuietly(const std::string& socket_path, const nlohmann::json& header, int tty_fd,
                      std::chrono::milliseconds timeout);

}  // namespace tazpod::session
