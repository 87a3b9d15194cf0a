// How a vault operation failed: a value, never an exception across the
// helper boundary. `step` names the step that failed (e.g. "loop.attach"),
// `message` says what happened and, where there is one, what to do.
#pragma once

#include <optional>
#include <string>

namespace tazpod::vault {

enum class ErrorKind {
  kWrongPassphrase,  // the passphrase was refused; nothing changed
  kBusy,             // another operation runs, or something holds the vault
  kInvalid,          // bad configuration or input (symlinked path, read-only volume…)
  kSystem,           // a kernel or library call failed
};

struct VaultError {
  ErrorKind kind = ErrorKind::kSystem;
  std::string step;
  std::string message;
};

// nullopt on success.
using VaultStatus = std::optional<VaultError>;

inline VaultError SystemError(std::string step, std::string message) {
  return {ErrorKind::kSystem, std::move(step), std::move(message)};
}

}  // namespace tazpod::vault
