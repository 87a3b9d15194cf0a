// TazPod's configuration: defaults, then the TOML file, then environment
// variables, then command-line flags, each overriding the one before.
//
// The file (default /etc/tazpod/config.toml) has one section per component:
// [init] here; [vault], [session] and [health] are reserved for theirs and
// accept no keys yet. Any malformed file, unknown section or key, or bad
// value is an error that names the file, the line and the key; `tazpod init`
// then exits 2 before starting anything. docs/configuration.md lists every key.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "init/log.h"

namespace tazpod::init {

inline constexpr char kDefaultConfigPath[] = "/etc/tazpod/config.toml";

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

struct Config {
  InitConfig init;
};

// Reads `path` into `config`, overriding what it sets. Returns an error
// message ("FILE:LINE:COL: ...") or nullopt. A missing file is an error only
// when `must_exist` (an explicit --config); the default path may be absent.
std::optional<std::string> ApplyConfigFile(const std::string& path, bool must_exist,
                                           Config& config);

// Applies the peers' environment variables (TINI_KILL_PROCESS_GROUP,
// TINI_VERBOSITY, DUMB_INIT_SETSID), so swapping tini or dumb-init for
// `tazpod init` keeps their meaning.
void ApplyEnvironment(Config& config);

// "8s", "500ms", "2m", "0": a non-negative duration. nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// "15:3" or "SIGTERM:SIGQUIT" (dumb-init --rewrite); "SIGHUP:0" drops SIGHUP.
std::optional<std::pair<int, int>> ParseRewrite(std::string_view text);

}  // namespace tazpod::init
