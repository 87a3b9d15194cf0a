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
//   unlocking ──found_no_image──▶ absent    locking ──found_no_image──▶ absent
//   unlocking ──create_refused──▶ absent
//
// "failed" keeps both doors open on purpose: a lock that stopped half way is
// finished by the next lock, and an unlock that failed (say, a full tmpfs)
// may be retried once the cause is fixed. A failed first unlock deletes the
// image it made, so the operation that follows may find none: the vault is
// then absent again, and the next unlock is a first one, with its checks.
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
  // An unlock that may not create the vault, or a lock, found no image:
  // what failed before was a first unlock, and nothing is left of it.
  kFoundNoImage,
  // A first unlock was refused before it made anything (the image would
  // not fit the container's memory): there is still no image.
  kCreateRefused,
};

// What an unlock does when there is no image yet. Only an unlock that ran
// the first unlock's checks (a confirmed passphrase of the minimum length,
// or root's own `tazpod vault unlock`) may create one.
enum class IfNoImage {
  kCreate,
  kRefuse,
};

// Returns the state after `event` in `from`, or nullopt when the event is not
// allowed there (for example a second unlock while one is running). Callers
// turn nullopt into a clear error and change nothing.
std::optional<VaultState> NextState(VaultState from, VaultEvent event);

// Stable lower-case names, used in logs, status output and metrics.
std::string_view Name(VaultState state);
std::string_view Name(VaultEvent event);

}  // namespace tazpod::vault
