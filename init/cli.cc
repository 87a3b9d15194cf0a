#include "init/cli.h"

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "init/config.h"
#include "init/health_command.h"
#include "init/init_command.h"
#include "init/signal_names.h"
#include "init/vault_command.h"
#include "session/login_command.h"
#include "session/user_commands.h"
#include "session/protocol.h"
#include "version.h"

namespace tazpod::init {

namespace {

constexpr int kExitUsage = 2;

// Flags of `tazpod init`, kept apart from the configuration so that only the
// flags actually given override the file and the environment.
struct InitFlags {
  std::string config_path = DefaultConfigPath();
  bool config_given = false;
  bool group = false;
  bool single_child = false;
  std::vector<std::string> rewrites;
  std::vector<int> expect_exit;
  std::string pdeathsig;
  bool subreaper = false;
  bool warn_on_reap = false;
  int verbose = 0;
  bool pause = false;
  std::string grace_period;
  std::string forward_delay;
  std::string log_format;
  std::string log_level;
  std::vector<std::string> command;
};

void AddInitCommand(CLI::App& app, InitFlags& f) {
  CLI::App* init = app.add_subcommand("init", "Run as the container's PID 1 (docs/init.md)");
  init->add_option("--config", f.config_path, "Configuration file")->capture_default_str();
  init->add_flag("-g,--pgroup", f.group, "Forward signals to the main child's process group (tini -g)");
  init->add_flag("-c,--single-child", f.single_child, "Forward signals to the main child only (the default; dumb-init -c)");
  init->add_option("-r,--rewrite", f.rewrites, "Rewrite signal S to R before forwarding, as S:R (dumb-init -r; R=0 drops)");
  init->add_option("-e,--expect-exit", f.expect_exit, "Report this exit code of the main child as 0 (tini -e)")
      ->check(CLI::Range(0, 255));
  init->add_option("-p,--pdeathsig", f.pdeathsig, "Signal init receives when its parent dies (tini -p)");
  init->add_flag("-s,--subreaper", f.subreaper, "Accepted for tini compatibility: init always registers as subreaper when not PID 1");
  init->add_flag("-w,--warn-on-reap", f.warn_on_reap, "Warn about reaped processes that were not init's own (tini -w)");
  init->add_flag("-v,--verbose", f.verbose, "More log output (repeat for debug)");
  init->add_flag("-P,--pause", f.pause, "Run no command and idle until stopped (catatonit -P)");
  init->add_option("--grace-period", f.grace_period, "Shutdown grace period before SIGKILL, e.g. 8s");
  init->add_option("--forward-delay", f.forward_delay, "Delay between SIGTERM and acting on it, e.g. 5s");
  init->add_option("--log-format", f.log_format, "text or json");
  init->add_option("--log-level", f.log_level, "debug, info, warn or error");
  // Everything from the first positional argument (or after "--") is the
  // main child's command line, untouched: its own flags are not ours.
  init->prefix_command();
  init->footer("COMMAND [ARGS...] after the options (or after --) runs as the main child.");
}

// Applies the flags that were given on top of `config`. Returns an error
// message for a bad value, or an empty string.
std::string ApplyFlags(const InitFlags& f, Config& config) {
  InitConfig& c = config.init;
  if (f.group) c.forward_to_process_group = true;
  if (f.single_child) c.forward_to_process_group = false;
  for (const std::string& r : f.rewrites) {
    auto rw = ParseRewrite(r);
    if (!rw) return "--rewrite " + r + ": expected SIGNAL:SIGNAL, e.g. 15:3 or SIGTERM:SIGQUIT";
    c.signal_rewrite[rw->first] = rw->second;
  }
  for (int code : f.expect_exit) c.expect_exit.insert(code);
  if (!f.pdeathsig.empty()) {
    auto sig = ParseSignal(f.pdeathsig);
    if (!sig) return "--pdeathsig " + f.pdeathsig + ": unknown signal";
    c.parent_death_signal = *sig;
  }
  if (f.warn_on_reap) c.warn_on_foreign_reap = true;
  if (f.verbose == 1 && c.log_level > LogLevel::kInfo) c.log_level = LogLevel::kInfo;
  if (f.verbose >= 2) c.log_level = LogLevel::kDebug;
  if (f.pause) c.pause = true;
  if (!f.grace_period.empty()) {
    auto d = ParseDuration(f.grace_period);
    if (!d) return "--grace-period " + f.grace_period + ": expected a duration such as 8s or 500ms";
    c.grace_period = *d;
  }
  if (!f.forward_delay.empty()) {
    auto d = ParseDuration(f.forward_delay);
    if (!d) return "--forward-delay " + f.forward_delay + ": expected a duration such as 5s";
    c.forward_delay = *d;
  }
  if (!f.log_format.empty()) {
    auto fmt = ParseLogFormat(f.log_format);
    if (!fmt) return "--log-format " + f.log_format + ": expected text or json";
    c.log_format = *fmt;
  }
  if (!f.log_level.empty()) {
    auto lvl = ParseLogLevel(f.log_level);
    if (!lvl) return "--log-level " + f.log_level + ": expected debug, info, warn or error";
    c.log_level = *lvl;
  }
  if (c.pause && !f.command.empty()) return "--pause runs no command, but one was given";
  return "";
}

void AddVaultCommand(CLI::App& app, VaultCommand& v) {
  CLI::App* vault = app.add_subcommand("vault", "Drive the vault through PID 1, without the login gate");
  vault->add_option("action", v.action, "status, unlock, lock, verify or passwd")
      ->required()
      ->check(CLI::IsMember({"status", "unlock", "lock", "verify", "passwd"}));
  vault->add_option("--socket", v.socket, "PID 1's control socket")->capture_default_str();
  vault->add_flag("--passphrase-stdin", v.passphrase_stdin,
                  "Read the passphrase from stdin (passwd: old, then new, one per line)");
}

void AddLoginCommand(CLI::App& app, session::LoginCommand& login, int& timeout_s) {
  CLI::App* cmd = app.add_subcommand("login", "Prove the vault's passphrase and get a shell as the workstation user");
  cmd->add_option("--socket", login.socket, "PID 1's control socket")->capture_default_str();
  cmd->add_option("--timeout", timeout_s, "Seconds to type the passphrase")->capture_default_str()->check(CLI::Range(1, 3600));
}

void AddUserCommands(CLI::App& app, session::UserCommand& user, int& timeout_s) {
  CLI::App* status = app.add_subcommand("status", "Show the vault's state and the open sessions");
  status->add_flag("--json", user.json, "One JSON object instead of text");
  status->add_option("--socket", user.socket, "PID 1's control socket")->capture_default_str();
  CLI::App* lock = app.add_subcommand("lock", "Lock the vault now (refused while sessions are open)");
  lock->add_flag("--force", user.force, "End the open sessions first (they are hung up)");
  lock->add_option("--socket", user.socket, "PID 1's control socket")->capture_default_str();
  CLI::App* passwd = app.add_subcommand("passwd", "Change the vault's passphrase (asked on the terminal)");
  passwd->add_option("--socket", user.socket, "PID 1's control socket")->capture_default_str();
  passwd->add_option("--timeout", timeout_s, "Seconds to type each passphrase")->capture_default_str()->check(CLI::Range(1, 3600));
}

void AddHealthCommand(CLI::App& app, HealthCommand& health, int& timeout_s) {
  CLI::App* cmd = app.add_subcommand("health", "Ask PID 1 whether it is healthy: exit 0 or 1, with one line (HEALTHCHECK)");
  cmd->add_option("--socket", health.socket, "PID 1's control socket")->capture_default_str();
  cmd->add_option("--timeout", timeout_s, "Seconds to wait for an answer")->capture_default_str()->check(CLI::Range(1, 300));
}

int RunInitCommand(const InitFlags& flags, bool config_given) {
  InitOptions options;
  if (auto err = ApplyConfigFile(flags.config_path, config_given, options.config)) {
    std::cerr << "tazpod init: " << *err << "\n";
    return kExitUsage;
  }
  ApplyEnvironment(options.config);
  if (std::string err = ApplyFlags(flags, options.config); !err.empty()) {
    std::cerr << "tazpod init: " << err << "\n";
    return kExitUsage;
  }
  options.command = flags.command;
  return RunInit(options);
}

}  // namespace

namespace {

// What the command line asked for, once parsed: the parser (and everything
// CLI11 allocated) is gone before any of it runs, so PID 1 does not carry
// the command-line machinery in its heap for the container's whole life.
struct Parsed {
  enum class Run { kExit, kInit, kVault, kLogin, kStatus, kLock, kPasswd, kHealth } run = Run::kExit;
  int exit_code = kExitUsage;
  InitFlags init_flags;
  bool config_given = false;
  VaultCommand vault_command;
  session::LoginCommand login_command;
  session::UserCommand user_command;
  HealthCommand health_command;
};

Parsed ParseCommandLine(int argc, char** argv) {
  Parsed p;
  CLI::App app{"tazpod: PID 1 and passphrase-gated LUKS2 vault for a developer container",
               "tazpod"};
  app.set_version_flag("--version", std::string("tazpod ") + kVersion,
                       "Print the version and exit");
  app.footer("Run `tazpod SUBCOMMAND --help` for the options of one subcommand.");
  AddInitCommand(app, p.init_flags);
  p.vault_command.socket = session::kDefaultSocketPath;
  AddVaultCommand(app, p.vault_command);
  p.login_command.socket = session::kDefaultSocketPath;
  int login_timeout_s = 120;
  AddLoginCommand(app, p.login_command, login_timeout_s);
  p.user_command.socket = session::kDefaultSocketPath;
  int passwd_timeout_s = 120;
  AddUserCommands(app, p.user_command, passwd_timeout_s);
  p.health_command.socket = session::kDefaultSocketPath;
  int health_timeout_s = 5;
  AddHealthCommand(app, p.health_command, health_timeout_s);

  // "--" ends tazpod's own arguments: what follows is the main child's
  // command line, passed on untouched (CLI11 would hand it to the top level).
  std::vector<std::string> after_dashes;
  int own_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own_argc = i;
      after_dashes.assign(argv + i + 1, argv + argc);
      break;
    }
  }

  try {
    app.parse(own_argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    p.exit_code = app.exit(e) == 0 ? 0 : kExitUsage;
    return p;
  }

  if (app.got_subcommand("init")) {
    CLI::App* init = app.get_subcommand("init");
    p.init_flags.command = init->remaining();
    if (!p.init_flags.command.empty() && !after_dashes.empty()) {
      std::cerr << "tazpod init: a command both before and after \"--\"\n";
      return p;
    }
    if (p.init_flags.command.empty()) p.init_flags.command = after_dashes;
    p.config_given = init->get_option("--config")->count() > 0;
    p.run = Parsed::Run::kInit;
    return p;
  }
  if (!after_dashes.empty()) {
    std::cerr << "tazpod: arguments after \"--\" are only for `tazpod init`\n";
    return p;
  }
  if (app.got_subcommand("vault")) {
    p.run = Parsed::Run::kVault;
  } else if (app.got_subcommand("login")) {
    p.login_command.prompt_timeout = std::chrono::seconds(login_timeout_s);
    p.run = Parsed::Run::kLogin;
  } else if (app.got_subcommand("status")) {
    p.run = Parsed::Run::kStatus;
  } else if (app.got_subcommand("lock")) {
    p.run = Parsed::Run::kLock;
  } else if (app.got_subcommand("passwd")) {
    p.user_command.prompt_timeout = std::chrono::seconds(passwd_timeout_s);
    p.run = Parsed::Run::kPasswd;
  } else if (app.got_subcommand("health")) {
    p.health_command.timeout = std::chrono::seconds(health_timeout_s);
    p.run = Parsed::Run::kHealth;
  } else {
    std::cerr << app.help();
  }
  return p;
}

}  // namespace

int RunCli(int argc, char** argv) {
  Parsed parsed = ParseCommandLine(argc, argv);
  // Give the parser's freed heap back to the kernel before a long life.
  malloc_trim(0);
  switch (parsed.run) {
    case Parsed::Run::kInit: return RunInitCommand(parsed.init_flags, parsed.config_given);
    case Parsed::Run::kVault: return RunVaultCommand(parsed.vault_command);
    case Parsed::Run::kLogin: return session::RunLogin(parsed.login_command);
    case Parsed::Run::kStatus: return session::RunStatus(parsed.user_command);
    case Parsed::Run::kLock: return session::RunLock(parsed.user_command);
    case Parsed::Run::kPasswd: return session::RunPasswd(parsed.user_command);
    case Parsed::Run::kHealth: return RunHealthCommand(parsed.health_command);
    case Parsed::Run::kExit: break;
  }
  return parsed.exit_code;
}

}  // namespace tazpod::init
