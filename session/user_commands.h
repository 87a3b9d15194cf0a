// The workstation user's commands, clients of the gate (docs/cli.md):
//
//   tazpod status [--json]   the vault's state, sessions, throttling
//   tazpod lock [--force]    lock now; refused while sessions are open
//                            unless --force, which hangs them up first
//   tazpod passwd            old passphrase, then the new one twice, read
//                            from the terminal; the volume key is kept, so
//                            nothing is re-encrypted
//
// Each prints one clear line on failure and exits with a documented code.
#pragma once

#include <chrono>
#include <string>

namespace tazpod::session {

struct UserCommand {
  std::string socket;
  bool json = false;   // status
  bool force = false;  // lock
  std::chrono::milliseconds prompt_timeout{120000};  // passwd
};

// 0 the supervisor answered (whatever the vault's state); 69 unreachable.
int RunStatus(const UserCommand& command);

// 0 locked (or was not unlocked); 1 the lock failed; 3 sessions are open
// (without --force); 69 unreachable.
int RunLock(const UserCommand& command);

// 0 changed; 1 refused (wrong old passphrase, throttled, the new ones
// differ or are too short, no vault); 3 no terminal; 4 no passphrase
// (Ctrl+C, Ctrl+D, hangup, timeout...); 69 unreachable.
int RunPasswd(const UserCommand& command);

}  // namespace tazpod::session
