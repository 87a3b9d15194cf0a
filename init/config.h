// TazPod's configuration: defaults, then the TOML file, then environment
// variables, then command-line flags, each overriding the one before.
//
// The file (default /etc/tazpod/config.toml, or $TAZPOD_CONFIG) has one
// section per component: [init], [vault], [session], [health]. Any malformed file, unknown section or key, or bad
// value is an error that names the file, the line and the key; `tazpod init`
// then exits 2 before starting anything. docs/configuration.md lists every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace tazpod::init {

inline constexpr char kDefaultConfigPath[] = "/etc/tazpod/config.toml";

// Which configuration file to read, and whether it must exist.
struct ConfigLocation {
  std::string path;
  bool must_exist = false;
};

// The file to read when --config is not given: $TAZPOD_CONFIG if set, else
// kDefaultConfigPath. A file the variable names must exist, as one named by
// --config must: a variable that points nowhere (a ConfigMap that was not
// mounted) is a mistake to report, not a reason to run on defaults. Only
// kDefaultConfigPath may be absent.
ConfigLocation DefaultConfigLocation();

struct InitConfig {
  // How long the whole shutdown (steps, then SIGTERM) may take before the
  // rest is killed. Below Docker's 10 s stop timeout.
  std::chrono::milliseconds grace_period{8000};
  // Delay between receiving SIGTERM/SIGINT and acting on it (load-balancer drain).
  std::chrono::milliseconds forward_delay{0};
  // Forward signals to the main child's whole process group (tini -g).
  bool forward_to_process_group = false;
  // Signal rewriting before forwarding (dumb-init --rewrite); 0 drops it.
  std::map<int, int> signal_rewrite;
  // Exit codes of the main child reported as 0 (tini -e).
  std::set<int> expect_exit;
  // Signal init receives when its parent dies (tini -p); 0 for none.
  int parent_death_signal = 0;
  // Warn about reaped processes that were not init's own (tini -w).
  bool warn_on_foreign_reap = false;
  // No main child, on purpose (catatonit -P): idle until stopped. A command
  // given with it is a usage error.
  bool pause = false;
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
};

// [vault]: how PID 1 runs the vault (docs/vault.md). Sizes are bytes.
struct VaultSettings {
  bool enabled = true;
  bool ram_mode = true;
  std::string enclave_dir = "/run/tazpod/enclave";
  std::uint64_t enclave_size = 256ULL << 20;
  std::string image;               // persistent mode: required
  std::uint64_t image_size = 0;    // 0: the enclave size less 1 MiB (its whole size up to 2 MiB)
  std::string mapping_name;        // "": "tazpod-" + the hostname (Docker: the container id)
  std::string mountpoint;          // "": the user's ~/secrets
  std::string pbkdf = "argon2id";
  std::uint32_t pbkdf_iterations = 0;  // 0: benchmark for pbkdf_time
  std::uint32_t pbkdf_memory_kib = 1048576;
  std::uint32_t pbkdf_parallel = 4;
  std::chrono::milliseconds pbkdf_time{2000};
  std::uint64_t luks2_keyslots_size = 0;  // 0: libcryptsetup's default
  std::chrono::milliseconds holder_grace{3000};
  std::chrono::milliseconds operation_timeout{120000};
  std::vector<std::string> unlock_hooks;  // programs run as the user after unlock
  std::vector<std::string> lock_hooks;    // programs run as the user before lock
  std::chrono::milliseconds hook_timeout{60000};
  std::string helper = "/usr/libexec/tazpod/tazpod-vault-helper";
  // Mount the vault in a namespace only gated sessions join (an ungated
  // `docker exec` sees an empty mountpoint); init/mount_namespace.h.
  bool private_mount_namespace = true;
};

// [session]: the gate's side (the control socket and the workstation user).
struct SessionSettings {
  bool control = true;
  std::string socket = "/run/tazpod/control.sock";
  std::string user = "dev";
  std::uint32_t min_passphrase_length = 8;  // for a new vault
  std::chrono::milliseconds lock_grace{0};  // after the last session exits
  // `tazpod lock --force`: from SIGHUP to SIGKILL of the sessions left.
  std::chrono::milliseconds hangup_grace{3000};
  std::chrono::milliseconds throttle_base{1000};
  std::chrono::milliseconds throttle_cap{60000};
};

// [health]: the HTTP endpoint for probes and Prometheus, and the audit log
// (docs/health.md, docs/logging.md).
// The most health.max_connections may be: each connection is a descriptor
// of PID 1's.
inline constexpr std::uint32_t kMaxHttpConnections = 1024;

struct HealthSettings {
  bool http = true;
  std::string address = "127.0.0.1";  // loopback; Kubernetes: "0.0.0.0"
  std::uint16_t port = 9090;
  std::uint32_t max_connections = 16;
  std::chrono::milliseconds read_timeout{5000};
  // A vault operation running longer than this makes PID 1 unhealthy.
  std::chrono::milliseconds max_vault_operation{300000};
  // Audit events also go to this file as JSON lines ("": stderr only).
  std::string audit_log;
};

struct Config {
  InitConfig init;
  VaultSettings vault;
  SessionSettings session;
  HealthSettings health;
};

// Reads `path` into `config`, overriding what it sets. Returns an error
// message ("FILE:LINE:COL: ...") or nullopt. A missing file is an error only
// when `must_exist` (an explicit --config); the default path may be absent.
std::optional<std::string> ApplyConfigFile(const std::string& path, bool must_exist,
                                           Config& config);

// The same on the file's text, already read; `path` names it in messages.
// Never throws: a TOML syntax error is returned like any other.
std::optional<std::string> ApplyConfigText(std::string_view text, const std::string& path, Config& config);

// Applies the peers' environment variables (TINI_KILL_PROCESS_GROUP,
// TINI_VERBOSITY, DUMB_INIT_SETSID), so swapping tini or dumb-init for
// `tazpod init` keeps their meaning.
void ApplyEnvironment(Config& config);

// "8s", "500ms", "2m", "0": a non-negative duration. nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// "256M", "1G", "512K", "1048576": a size in bytes. nullopt when malformed.
std::optional<std::uint64_t> ParseSize(std::string_view text);

// "15:3" or "SIGTERM:SIGQUIT" (dumb-init --rewrite); "SIGHUP:0" drops SIGHUP.
std::optional<std::pair<int, int>> ParseRewrite(std::string_view text);

// Why a rewrite of `signal` is refused, or nullptr when it is allowed. Init
// never forwards SIGCHLD (its own), SIGKILL and SIGSTOP (they cannot be
// caught) or a fault signal, so such a rewrite would do nothing; dumb-init
// accepts it silently, which hides the mistake.
const char* RewriteSourceError(int signal);

}  // namespace tazpod::init
