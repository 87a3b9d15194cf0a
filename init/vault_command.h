// `tazpod vault status|unlock|lock|verify|passwd`: drives the vault through
// PID 1's control socket, without the login gate. For automation and tests;
// people use `tazpod login`. Passphrases are read from stdin only when
// --passphrase-stdin says so, never from argv or the environment.
#pragma once

#include <chrono>
#include <string>

namespace tazpod::init {

struct VaultCommand {
  std::string action;  // status, unlock, lock, verify, passwd
  std::string socket;
  bool passphrase_stdin = false;
  std::chrono::milliseconds timeout{300000};
};

// Exit codes: 0 done · 2 wrong passphrase · 3 busy or not allowed in this
// state · 4 invalid input · 1 failed · 69 the supervisor cannot be reached.
int RunVaultCommand(const VaultCommand& command);

}  // namespace tazpod::init
