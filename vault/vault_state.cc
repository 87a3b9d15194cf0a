#include "vault/vault_state.h"

namespace tazpod::vault {

std::optional<VaultState> NextState(VaultState from, VaultEvent event) {
  using S = VaultState;
  using E = VaultEvent;
  switch (from) {
    case S::kAbsent:
    case S::kLocked:
      if (event == E::kUnlockBegin) return S::kUnlocking;
      break;
    case S::kUnlocking:
      if (event == E::kUnlockDone) return S::kUnlocked;
      // A refused passphrase can only happen when an image already exists.
      if (event == E::kUnlockRefused) return S::kLocked;
      if (event == E::kUnlockFailed) return S::kFailed;
      if (event == E::kFoundNoImage) return S::kAbsent;
      if (event == E::kCreateRefused) return S::kAbsent;
      break;
    case S::kUnlocked:
      if (event == E::kLockBegin) return S::kLocking;
      break;
    case S::kLocking:
      if (event == E::kLockDone) return S::kLocked;
      if (event == E::kLockFailed) return S::kFailed;
      if (event == E::kFoundNoImage) return S::kAbsent;
      break;
    case S::kFailed:
      if (event == E::kUnlockBegin) return S::kUnlocking;
      if (event == E::kLockBegin) return S::kLocking;
      break;
  }
  return std::nullopt;
}

std::string_view Name(VaultState state) {
  switch (state) {
    case VaultState::kAbsent: return "absent";
    case VaultState::kUnlocking: return "unlocking";
    case VaultState::kUnlocked: return "unlocked";
    case VaultState::kLocking: return "locking";
    case VaultState::kLocked: return "locked";
    case VaultState::kFailed: return "failed";
  }
  return "unknown";
}

std::string_view Name(VaultEvent event) {
  switch (event) {
    case VaultEvent::kUnlockBegin: return "unlock_begin";
    case VaultEvent::kUnlockDone: return "unlock_done";
    case VaultEvent::kUnlockRefused: return "unlock_refused";
    case VaultEvent::kUnlockFailed: return "unlock_failed";
    case VaultEvent::kLockBegin: return "lock_begin";
    case VaultEvent::kLockDone: return "lock_done";
    case VaultEvent::kLockFailed: return "lock_failed";
    case VaultEvent::kFoundNoImage: return "found_no_image";
    case VaultEvent::kCreateRefused: return "create_refused";
  }
  return "unknown";
}

}  // namespace tazpod::vault
