// The one line a tazpod-vault-helper writes on its stdout when its operation
// ends (vault/helper_main.cc), and what PID 1 makes of it:
//
//   result=ok state=unlocked t_start_us=… t_end_us=… [probe_us=… …] [hooks_failed=N]
//   result=error kind=wrong_passphrase step=open message="…"
//
// The helper runs as root and is ours, but its message carries text from
// libcryptsetup and the kernel, and a helper killed mid-write leaves half a
// line: these functions take any bytes and never read past them.
#pragma once

#include <string>
#include <utility>
#include <string_view>

namespace tazpod::init {

// How a vault operation ended, for the caller, the gate and the audit log.
struct VaultOutcome {
  bool ok = false;
  std::string kind;     // "", "wrong_passphrase", "busy", "invalid", "system", "refused"
  std::string message;  // for the user; never a secret
  std::string step;     // on failure, where the helper stopped ("in_use", "keyslot_memory", "luks.activate"...)
};

// Whether a first unlock was refused before it made anything, because the
// vault it would make cannot be: the RAM-mode image would not fit the
// container's memory, or no vault fits the configured image size. There is
// still no vault.
inline bool IsCreateRefusal(const VaultOutcome& o) {
  return o.step == "image_memory" || o.step == "image_size";
}

// Whether the helper refused before doing anything, for a cause the next
// attempt would meet too until the container changes: a create refusal
// (above), the image is in use by another container, or no keyslot fits
// the container's memory.
inline bool IsLastingRefusal(const VaultOutcome& o) {
  return IsCreateRefusal(o) || o.step == "in_use" || o.step == "keyslot_memory";
}

// The step a result line names when the operation's helper never started.
inline constexpr std::string_view kNeverStartedStep = "spawn";
// The step PID 1's forked child writes when it cannot enter the vault's
// mount namespace, before it execs the helper (vault_service.cc).
inline constexpr std::string_view kNamespaceNotEnteredStep = "namespace";

// Whether the operation's helper never started (PID 1 could not fork it,
// had no descriptor or epoll watch left for it, or its child could not
// enter the vault's mount namespace): nothing was done to the vault. Such
// a shortage passes (fork's EAGAIN at the container's pids limit, setns's
// ENOMEM): an unlock it stopped leaves the vault locked, not failed, which
// /healthz would report and a kubelet answer with a restart that loses a
// RAM vault.
inline bool HelperNeverStarted(const VaultOutcome& o) {
  return o.kind == "system" && (o.step == kNeverStartedStep || o.step == kNamespaceNotEnteredStep);
}

// The result line PID 1 answers for a helper that never started, for
// `error` (an errno), in the form a helper writes: OutcomeOfResult reads it
// like any other, and HelperNeverStarted recognises it.
std::string NeverStartedResult(int error);

// An outcome that is no success, of `kind`, saying `message`.
inline VaultOutcome Failure(std::string kind, std::string message) {
  VaultOutcome o;
  o.kind = std::move(kind);
  o.message = std::move(message);
  return o;
}

// The value of `key` in a result line ("" when absent): the text after
// "key=" up to the next space. `key` (not empty) must start a
// space-separated token.
std::string ResultField(const std::string& line, std::string_view key);

// The exit code a result line stands for (helper_main.cc's table): 0 for
// result=ok, else by kind: 2 wrong_passphrase, 3 busy, 4 invalid, 1 other.
int ExitCodeOfResult(const std::string& line);

// The outcome of an operation whose helper exited with `exit_code` (-1:
// killed) after writing `line` (possibly empty or cut short). Its kind is
// the one `line` says when it is a result line, else the exit code's.
VaultOutcome OutcomeOfResult(int exit_code, const std::string& line);

}  // namespace tazpod::init
