// `tazpod login`: the gate's client, what `docker exec -it <c> tazpod login`
// runs. Starts as root, proves the passphrase to PID 1, and only once PID 1
// has accepted it (and registered this process as a session) becomes the
// workstation user and execs the user's login shell, in this same process,
// so the session PID 1 watches is the shell's. When the vault lives in a
// private mount namespace, PID 1 passes it with its answer and the login
// enters it before it drops to the user.
//
// Exit codes (it never returns 0: on success the shell replaces it):
//   1 refused (wrong passphrase, throttled, passphrases differ, vault error)
//   2 usage (not started as root, or cannot forbid core dumps)   3 no terminal
//   4 no passphrase (Ctrl+C, Ctrl+\, Ctrl+Z, Ctrl+D, hangup, timeout, signal)
//   69 PID 1 cannot be reached      126 the shell could not be started
#pragma once

#include <chrono>
#include <string>

namespace tazpod::session {

struct LoginCommand {
  std::string socket;
  std::chrono::milliseconds prompt_timeout{120000};
};

int RunLogin(const LoginCommand& command);

}  // namespace tazpod::session
