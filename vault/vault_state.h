// The vault's lifecycle as data.
//
// VaultState names every state the vault can be in; VaultEvent names every
// step that moves it. NextState() is the whole state machine: a pure function
// that the vault calls around each operation and that unit tests walk
// exhaustively. It never touches the kernel.
//
//   absent ──unlock_begin──▶ unlocking ──unlock_done──▶ unlocked
//   locked ──unlock_begin──▶ unlocking ──unlock_refused─▶ locked
//                            unlocking ──unlock_failed──▶ failed
//   unlocked ──lock_begin──▶ locking ──lock_done──▶ locked
//                            locking ──lock_failed──▶ failed
//   failed ──unlock_begin──▶ unlocking     failed ──lock_begin──▶ locking
//
// "failed" keeps both doors open on purpose: a lock that stopped half way is
// finished by the next lock, and an unlock that failed (say, a full tmpfs)
// may be retried once the cause is fixed.
#pragma once

#include <optional>
#include <string_view>

namespace tazpod::vault {

enum class VaultState {
  kAbsent,     // no image yet: the first unlock creates it
  kUnlocking,  // an unlock is running; no other operation may start
  kUnlocked,   // mapped and mounted
  kLocking,    // a lock is running; no other operation may start
  kLocked,     // image exists, nothing attached
  kFailed,     // an operation failed; the reason is kept beside the state
};

enum class VaultEvent {
  kUnlockBegin,
  kUnlockDone,
  kUnlockRefused,  // wrong passphrase: nothing changed on disk
  kUnlockFailed,   // any other failure of an unlock
  kLockBegin,
  kLockDone,
  kLockFailed,
};

// Returns the state after `event` in `from`, or nullopt when the event is not
// allowed there (for example a second unlock while one is running). Callers
// turn nullopt into a clear error and change nothing.
std::optional<VaultState> NextState(VaultState from, VaultEvent event);

// Stable lower-case names, used in logs, status output and metrics.
std::string_view Name(VaultState state);
std::string_view Name(VaultEvent event);

}  // namespace tazpod::vault
