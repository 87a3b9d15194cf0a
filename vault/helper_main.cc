// tazpod-vault-helper: runs one vault operation in its own process.
//
//   tazpod-vault-helper OPERATION [OPTIONS]
//   OPERATION: unlock | unlock-existing | lock | verify | passwd | recover
//              | probe | standby
//
// PID 1 forks this program for every vault operation, as systemd-homed forks
// systemd-homework: PBKDF, mkfs and device-mapper calls can take seconds or
// hang in the kernel, and here they can neither block PID 1's event loop nor
// bring libcryptsetup and its dependencies into PID 1's memory. A helper
// that hangs can be killed; what it attached is found by recovery.
//
// Passphrases arrive on stdin, never in argv or the environment: unlock and
// verify read one; passwd reads the old one, a NUL byte, and the new one.
// `unlock` creates the vault when there is no image yet (the first unlock);
// `unlock-existing` never does: it fails with step=no_image instead. PID 1
// runs the latter for every unlock that did not pass the first unlock's
// checks.
//
// `standby` is the pre-started form: PID 1 starts the next helper ahead of
// time, and it waits, exec'd and linked, for its operation's name as the
// first line of stdin (then the passphrase, as above). So an operation does
// not pay fork, exec and the loading of libcryptsetup on its critical path.
// End of input before a name means "not needed": exit 0, nothing printed.
//
// Result: one line on stdout, and the exit code:
//   0 done · 2 wrong passphrase · 3 busy · 4 invalid input or configuration
//   1 a system call failed · 64 usage error
// A result line that says `result=ok` also carries CLOCK_MONOTONIC
// timestamps of the operation's start and end (`t_start_us`, `t_end_us`;
// comparable with PID 1's `mono_us` log fields) and, for lock, each step's
// duration (`probe_us` … `detach_us`), for bench/vault.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/secret_buffer.h"
#include "vault/passphrase_limits.h"
#include "vault/vault.h"

namespace {

// What a helper can be asked to do; `standby` reads one of these from stdin.
const std::vector<std::string> kOperations = {"unlock", "unlock-existing", "lock", "verify", "passwd", "recover", "probe"};

bool IsOperation(const std::string& name) {
  for (const std::string& known : kOperations)
    if (name == known) return true;
  return false;
}

using tazpod::SecretBuffer;
using namespace tazpod::vault;

constexpr size_t kMaxPassphrase = kMaxPassphraseBytes;
constexpr int kExitSystem = 1;
constexpr int kExitUsage = 64;

// CLOCK_MONOTONIC in microseconds: the clock PID 1 logs as `mono_us`.
long long MonoMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long operation_started_us = 0;

// Standby: the operation's name, one line on stdin, read a byte at a time so
// that nothing after it (the passphrase) is consumed here. Empty at end of
// input (PID 1 dismissed this helper). 0, the errno of a read that failed,
// or EINVAL when the line is cut short or too long for a name.
int ReadOperationName(std::string& name) {
  name.clear();
  for (;;) {
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return name.empty() ? 0 : EINVAL;
    if (c == '\n') return 0;
    if (name.size() >= 16) return EINVAL;
    name.push_back(c);
  }
}

// Reads all of stdin (at most two passphrases and a separator) straight
// into `all`, never through a buffer of its own. 0, the errno of a read
// that failed, or E2BIG when stdin holds more than `all` can.
int ReadSecrets(SecretBuffer& all) {
  for (;;) {
    const size_t room = all.capacity() - all.size();
    if (room == 0) {
      char more = 0;
      ssize_t n;
      do n = read(STDIN_FILENO, &more, 1);
      while (n < 0 && errno == EINTR);
      explicit_bzero(&more, sizeof more);
      return n == 0 ? 0 : n > 0 ? E2BIG : errno;
    }
    char* into = all.Extend(room);
    const ssize_t n = read(STDIN_FILENO, into, room);
    const int err = errno;
    all.Truncate(all.size() - room + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n == 0) return 0;
    if (n < 0 && err != EINTR) return err;
  }
}

std::string_view KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kWrongPassphrase: return "wrong_passphrase";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kSystem: return "system";
  }
  return "system";
}

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kWrongPassphrase: return 2;
    case ErrorKind::kBusy: return 3;
    case ErrorKind::kInvalid: return 4;
    case ErrorKind::kSystem: return 1;
  }
  return 1;
}

int Report(const VaultStatus& status, const Vault& vault, bool lock = false) {
  // Hook failures never fail the operation; they are said on stderr (which
  // PID 1 logs) and counted in the result line.
  for (const std::string& failure : vault.hook_failures())
    (void)std::fprintf(stderr, "tazpod-vault-helper: hook failed: %s\n", tazpod::EscapeUntrustedText(failure).c_str());
  if (!status) {
    const std::string state(Name(lock ? vault.StateAfterLock() : vault.Probe().state()));
    std::printf("result=ok state=%s t_start_us=%lld t_end_us=%lld", state.c_str(), operation_started_us,
                MonoMicros());
    if (lock) {
      const LockTimings& t = vault.lock_timings();
      std::printf(" probe_us=%lld hooks_us=%lld holders_us=%lld sync_us=%lld umount_us=%lld deactivate_us=%lld"
                  " detach_us=%lld",
                  t.probe_us, t.hooks_us, t.holders_us, t.sync_us, t.umount_us, t.deactivate_us, t.detach_us);
    }
    if (!vault.hook_failures().empty()) std::printf(" hooks_failed=%zu", vault.hook_failures().size());
    std::printf("\n");
    // PID 1 answers on this line; the exit may take longer. If the flush fails,
    // PID 1 sees an exit without a result line and reports that instead.
    return std::fflush(stdout) == 0 ? 0 : kExitSystem;
  }
  std::string message = status->message;
  for (char& c : message)
    if (c == '"' || c == '\n') c = '\'';
  // PID 1 reads at most 4 KiB of this output: a longer message (a lock's
  // long list of holders) is cut to fit the line, and said whole on
  // stderr, which PID 1 passes on into its log as it is: escaped, since it
  // may name a path or a process the user chose.
  constexpr size_t kMaxMessage = 3072;
  if (message.size() > kMaxMessage) {
    (void)std::fprintf(stderr, "tazpod-vault-helper: %s\n", tazpod::EscapeUntrustedText(status->message).c_str());
    message.resize(kMaxMessage);
    message += "... (cut; whole in PID 1's log)";
  }
  std::printf("result=error kind=%s step=%s message=\"%s\"\n", std::string(KindName(status->kind)).c_str(),
              status->step.c_str(), message.c_str());
  (void)std::fflush(stdout);
  return ExitCodeFor(status->kind);
}

// "UID:GID", both decimal, nothing else.
bool ParseOwner(const std::string& text, VaultConfig& config) {
  unsigned uid = 0, gid = 0;
  const char* end = text.data() + text.size();
  auto [after_uid, e1] = std::from_chars(text.data(), end, uid);
  if (e1 != std::errc() || after_uid == end || *after_uid != ':') return false;
  auto [after_gid, e2] = std::from_chars(after_uid + 1, end, gid);
  if (e2 != std::errc() || after_gid != end) return false;
  config.owner_uid = uid;
  config.owner_gid = gid;
  return true;
}

// Whether a passphrase may be put into `buffer`: it was mapped, and locked.
// Never into memory that may be swapped out, as PID 1 never does; says
// why not on stderr.
bool ReadyForSecret(const SecretBuffer& buffer) {
  if (!buffer.valid()) {
    std::cerr << "tazpod-vault-helper: cannot map memory for the passphrase: " << std::strerror(buffer.error()) << "\n";
    return false;
  }
  if (!buffer.locked()) {
    std::cerr << "tazpod-vault-helper: cannot lock memory for the passphrase (CAP_IPC_LOCK or RLIMIT_MEMLOCK)\n";
    return false;
  }
  return true;
}

}  // namespace

static int Main(int argc, char** argv) {
  operation_started_us = MonoMicros();
  // Passphrases pass through this process: no core file, no ptrace.
  struct rlimit none {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // A stderr with no reader (PID 1's own, when it had no descriptor left
  // for the relay) must fail a write with EPIPE, not kill the helper
  // between a lock's unmount and its deactivate. Its children (mkfs, the
  // hooks) get SIGPIPE back before they exec.
  (void)signal(SIGPIPE, SIG_IGN);  // cannot fail: a valid signal, a valid disposition

  VaultConfig config;
  std::string operation, mode = "ram", owner = "1000:1000";
  unsigned holder_grace_ms = 3000;
  unsigned hook_timeout_ms = 60000;
  CLI::App app{"Runs one TazPod vault operation (PID 1 starts it; see docs/vault.md)", "tazpod-vault-helper"};
  std::vector<std::string> operations = kOperations;
  operations.emplace_back("standby");
  app.add_option("operation", operation, "The operation to run")  // the help lists them
      ->required()
      ->check(CLI::IsMember(operations));
  app.add_option("--mode", mode, "ram or persistent")->check(CLI::IsMember({"ram", "persistent"}));
  app.add_option("--enclave", config.enclave_dir, "RAM mode: the tmpfs enclave's directory");
  app.add_option("--enclave-size", config.enclave_bytes, "RAM mode: enclave size in bytes");
  app.add_option("--image", config.image_path, "The image file (default ENCLAVE/vault.img)");
  app.add_option("--image-size", config.image_bytes, "Image size in bytes for a new vault");
  app.add_option("--name", config.mapping_name, "Device-mapper name, unique on the host")->required();
  app.add_option("--mountpoint", config.mountpoint, "Where the vault is mounted")->required();
  app.add_option("--owner", owner, "UID:GID owning the mounted vault");
  app.add_option("--pbkdf", config.pbkdf.type, "argon2id, argon2i or pbkdf2")
      ->check(CLI::IsMember({"argon2id", "argon2i", "pbkdf2"}));
  app.add_option("--pbkdf-iterations", config.pbkdf.iterations, "Forced iterations (0: benchmark)");
  app.add_option("--pbkdf-time-ms", config.pbkdf.time_ms, "Benchmark target");
  app.add_option("--pbkdf-memory", config.pbkdf.memory_kib, "Argon2 memory in KiB");
  app.add_option("--pbkdf-parallel", config.pbkdf.parallel, "Argon2 threads");
  // libcryptsetup's largest, checked here: the image's floor
  // (MinimumImageBytes) is reckoned from these, and must not overflow.
  app.add_option("--luks2-metadata-size", config.layout.metadata_bytes, "Bytes (0: default)")
      ->check(CLI::Range(0, 4 << 20));
  app.add_option("--luks2-keyslots-size", config.layout.keyslots_bytes, "Bytes (0: default)")
      ->check(CLI::Range(0, 128 << 20));
  app.add_option("--holder-grace-ms", holder_grace_ms, "Lock: time between SIGTERM and SIGKILL of holders");
  app.add_option("--unlock-hook", config.unlock_hooks, "Program run as the owner after unlock (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--lock-hook", config.lock_hooks, "Program run as the owner before lock (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--hook-timeout-ms", hook_timeout_ms, "A hook running longer is killed");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  config.ram_mode = mode == "ram";
  config.holder_grace = std::chrono::milliseconds(holder_grace_ms);
  config.hook_timeout = std::chrono::milliseconds(hook_timeout_ms);
  if (!ParseOwner(owner, config)) {
    std::cerr << "tazpod-vault-helper: --owner wants UID:GID\n";
    return kExitUsage;
  }
  if (!config.ram_mode && config.image_path.empty()) {
    std::cerr << "tazpod-vault-helper: persistent mode needs --image\n";
    return kExitUsage;
  }

  PrepareCryptsetupForContainer();
  Vault vault(config);

  if (operation == "standby") {
    if (const int err = ReadOperationName(operation); err == EINVAL) {
      std::cerr << "tazpod-vault-helper: standby: no operation name on stdin's first line\n";
      return kExitUsage;
    } else if (err != 0) {
      std::cerr << "tazpod-vault-helper: standby: cannot read the operation from stdin: " << std::strerror(err) << "\n";
      return kExitSystem;
    }
    if (operation.empty()) return 0;  // dismissed
    operation_started_us = MonoMicros();
    if (!IsOperation(operation)) {
      std::cerr << "tazpod-vault-helper: standby: unknown operation\n";
      return kExitUsage;
    }
  }

  if (operation == "probe") return Report(std::nullopt, vault);
  if (operation == "lock") {
    // A lock holds no secret, and its result is all PID 1 waits for: leave
    // at once, without running libcryptsetup's, OpenSSL's and the C++
    // runtime's exit handlers (the kernel releases everything anyway).
    const int rc = Report(vault.Lock(), vault, true);
    (void)std::fflush(stdout);
    _exit(rc);
  }
  if (operation == "recover") return Report(vault.Recover(), vault);

  SecretBuffer secrets(2 * kMaxPassphrase + 1);
  if (!ReadyForSecret(secrets)) return kExitSystem;
  if (const int err = ReadSecrets(secrets); err == E2BIG) {
    std::cerr << "tazpod-vault-helper: too long a passphrase on stdin\n";
    return kExitUsage;
  } else if (err != 0) {
    std::cerr << "tazpod-vault-helper: cannot read the passphrase from stdin: " << std::strerror(err) << "\n";
    return kExitSystem;
  }
  if (operation == "passwd") {
    const char* sep = static_cast<const char*>(memchr(secrets.data(), '\0', secrets.size()));
    if (!sep) {
      std::cerr << "tazpod-vault-helper: passwd reads OLD, a NUL byte, then NEW on stdin\n";
      return kExitUsage;
    }
    size_t old_len = static_cast<size_t>(sep - secrets.data());
    SecretBuffer old_pass(kMaxPassphrase), new_pass(kMaxPassphrase);
    if (!ReadyForSecret(old_pass) || !ReadyForSecret(new_pass)) return kExitSystem;
    const bool split = old_pass.Append(secrets.data(), old_len) && new_pass.Append(sep + 1, secrets.size() - old_len - 1);
    secrets.Clear();  // one copy of each is enough through the argon2 runs
    if (!split || old_pass.size() == 0 || new_pass.size() == 0) {
      std::cerr << "tazpod-vault-helper: passphrase too long or empty\n";
      return kExitUsage;
    }
    if (memchr(new_pass.data(), '\0', new_pass.size()) != nullptr) {
      std::cerr << "tazpod-vault-helper: the new passphrase holds a NUL byte: it could never be changed\n";
      return kExitUsage;
    }
    return Report(vault.ChangePassphrase(old_pass, new_pass), vault);
  }
  if (secrets.size() == 0 || secrets.size() > kMaxPassphrase) {
    std::cerr << "tazpod-vault-helper: an empty or too long passphrase on stdin\n";
    return kExitUsage;
  }
  // "unlock" may create the vault, with this passphrase (see passwd).
  if (operation == "unlock" && memchr(secrets.data(), '\0', secrets.size()) != nullptr) {
    std::cerr << "tazpod-vault-helper: a passphrase holding a NUL byte could never be changed\n";
    return kExitUsage;
  }
  if (operation == "verify") return Report(vault.Verify(secrets), vault);
  return Report(vault.Unlock(secrets, operation == "unlock" ? IfNoImage::kCreate : IfNoImage::kRefuse), vault);
}

// An exception that escapes (out of memory, a library's bug) ends the helper
// with a message and status 1, never with std::terminate's abort.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "tazpod-vault-helper: internal error: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "tazpod-vault-helper: internal error\n");
  }
  return 1;
}
