// What the vault helper takes as a passphrase, for PID 1 to check before it
// starts one: the helper refuses anything else as a usage error (exit 64,
// no result line), which PID 1 could only read as a failed vault.
#pragma once

#include <cstddef>

namespace tazpod::vault {

// One passphrase, in bytes, not empty. passwd reads two: OLD, a NUL byte,
// then NEW, each within this limit.
inline constexpr std::size_t kMaxPassphraseBytes = 1024;

}  // namespace tazpod::vault
