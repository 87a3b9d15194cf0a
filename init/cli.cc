#include "init/cli.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "init/config.h"
#include "init/health_command.h"
#include "init/init_command.h"
#include "init/signal_names.h"
#include "init/vault_command.h"
#include "session/login_command.h"
#include "session/protocol.h"
#include "session/user_commands.h"
#include "version.h"

// A hand-written parser, not CLI11: this binary is PID 1, and CLI11 (through
// <iostream>) made every start build the standard streams and the locale,
// then built three subcommands' worth of option objects, all before the
// main child could start (docs/benchmarks.md). The help texts and error
// messages are the ones CLI11 printed, so the command line is unchanged.

namespace tazpod::init {

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 69;  // every client command's "PID 1 cannot be reached"

// A failed write to the terminal has nobody left to tell.
void Print(std::FILE* to, std::string_view text) { (void)std::fwrite(text.data(), 1, text.size(), to); }

// A usage error in CLI11's words: the message, then where to get help.
int UsageError(std::string_view message) {
  Print(stderr, message);
  Print(stderr, "\nRun with --help for more information.\n");
  return kExitUsage;
}

constexpr std::string_view kTopHelp =
    "tazpod: PID 1 and passphrase-gated LUKS2 vault for a developer container\n"
    "Usage: tazpod [OPTIONS] [SUBCOMMAND]\n"
    "\n"
    "Options:\n"
    "  -h,--help                   Print this help message and exit\n"
    "  --version                   Print the version and exit\n"
    "\n"
    "Subcommands:\n"
    "  init                        Run as the container's PID 1 (docs/init.md)\n"
    "  vault                       Drive the vault through PID 1, without the login gate\n"
    "  login                       Prove the vault's passphrase and get a shell as the workstation user\n"
    "  status                      Show the vault's state and the open sessions\n"
    "  lock                        Lock the vault now (refused while sessions are open)\n"
    "  passwd                      Change the vault's passphrase (asked on the terminal)\n"
    "  health                      Ask PID 1 whether it is healthy: exit 0 or 1, with one line (HEALTHCHECK)\n"
    "\n"
    "Run `tazpod SUBCOMMAND --help` for the options of one subcommand.\n";

constexpr std::string_view kSubcommandFooter =
    "\nRun `tazpod SUBCOMMAND --help` for the options of one subcommand.\n";

void PrintInitHelp() {
  Print(stdout,
        "Run as the container's PID 1 (docs/init.md)\n"
        "Usage: tazpod init [OPTIONS]\n"
        "\n"
        "Options:\n"
        "  -h,--help                   Print this help message and exit\n");
  Print(stdout, "  --config TEXT=" + DefaultConfigLocation().path + "\n");
  Print(stdout,
        "                              Configuration file\n"
        "  -g,--pgroup                 Forward signals to the main child's process group (tini -g)\n"
        "  -c,--single-child           Forward signals to the main child only (the default; dumb-init -c)\n"
        "  -r,--rewrite S:R            Rewrite signal S to R before forwarding (dumb-init -r; R=0 drops; repeatable)\n"
        "  -e,--expect-exit CODE       Report this exit code (0-255) of the main child as 0 (tini -e; repeatable)\n"
        "  -p,--pdeathsig TEXT         Signal init receives when its parent dies (tini -p)\n"
        "  -s,--subreaper              Accepted for tini compatibility: init always registers as subreaper when not PID 1\n"
        "  -w,--warn-on-reap           Warn about reaped processes that were not init's own (tini -w)\n"
        "  -v,--verbose                More log output (repeat for debug)\n"
        "  -P,--pause                  Run no command and idle until stopped (catatonit -P)\n"
        "  --grace-period TEXT         Shutdown grace period before SIGKILL, e.g. 8s\n"
        "  --forward-delay TEXT        Delay between SIGTERM and acting on it, e.g. 5s\n"
        "  --log-format TEXT           text or json\n"
        "  --log-level TEXT            debug, info, warn or error\n"
        "\n"
        "COMMAND [ARGS...] after the options (or after --) runs as the main child.\n");
}

void PrintVaultHelp() {
  Print(stdout,
        "Drive the vault through PID 1, without the login gate\n"
        "Usage: tazpod vault [OPTIONS] action\n"
        "\n"
        "Positionals:\n"
        "  action TEXT:{status,unlock,lock,verify,passwd} REQUIRED\n"
        "                              status, unlock, lock, verify or passwd\n"
        "\n"
        "Options:\n"
        "  -h,--help                   Print this help message and exit\n"
        "  --socket TEXT=/run/tazpod/control.sock\n"
        "                              PID 1's control socket\n"
        "  --passphrase-stdin          Read the passphrase from stdin (passwd: old, then new, one per line)\n");
  Print(stdout, kSubcommandFooter);
}

std::optional<int> ParseIntInRange(std::string_view text, int low, int high) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
  return value;
}

// The arguments of one subcommand, read left to right.
class Args {
 public:
  explicit Args(std::vector<std::string_view> args) : args_(std::move(args)) {}
  bool done() const { return next_ >= args_.size(); }
  std::string_view peek() const { return args_[next_]; }
  std::string_view take() { return args_[next_++]; }
  // An argument that can be a value: not an option (CLI11 takes "-5" as an
  // option too, and so does this).
  bool value_next() const { return !done() && (args_[next_].empty() || args_[next_][0] != '-'); }
  std::vector<std::string> rest() {
    std::vector<std::string> out(args_.begin() + static_cast<std::ptrdiff_t>(next_), args_.end());
    next_ = args_.size();
    return out;
  }

 private:
  std::vector<std::string_view> args_;
  size_t next_ = 0;
};

// Splits "--name=value" into name and value; "--name" has no value.
std::pair<std::string_view, std::optional<std::string_view>> SplitLong(std::string_view arg) {
  auto eq = arg.find('=');
  if (eq == std::string_view::npos) return {arg, std::nullopt};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// Flags of `tazpod init`, kept apart from the configuration so that only the
// flags actually given override the file and the environment.
struct InitFlags {
  ConfigLocation config = DefaultConfigLocation();
  bool group = false;
  bool single_child = false;
  std::vector<std::string> rewrites;
  std::vector<int> expect_exit;
  std::string pdeathsig;
  bool warn_on_reap = false;
  int verbose = 0;
  bool pause = false;
  std::string grace_period;
  std::string forward_delay;
  std::string log_format;
  std::string log_level;
  std::vector<std::string> command;
};

// What parsing a subcommand's arguments ended in.
struct Outcome {
  bool run = false;  // else exit with `exit_code`
  int exit_code = kExitUsage;
};

Outcome Exit(int code) { return {false, code}; }

// The options of `tazpod init`; the first argument that does not begin
// with a dash, or the one after `--`, starts the main child's command line.
// One that begins with a dash and is none of them is a usage error.
Outcome ParseInitArgs(Args& args, InitFlags& f) {
  while (!args.done()) {
    std::string_view arg = args.peek();
    if (arg.size() < 2 || arg[0] != '-') break;
    if (arg == "--") {  // the end of init's options; what follows is the command's
      args.take();
      break;
    }
    std::string name;  // the option's long name, for messages
    char short_name = 0;
    std::optional<std::string_view> attached;  // "--x=v" or "-xv"
    if (arg[1] == '-') {
      auto [n, v] = SplitLong(arg);
      static constexpr std::pair<std::string_view, char> kLong[] = {
          {"--help", 'h'},        {"--pgroup", 'g'},       {"--single-child", 'c'}, {"--rewrite", 'r'},
          {"--expect-exit", 'e'}, {"--pdeathsig", 'p'},    {"--subreaper", 's'},    {"--warn-on-reap", 'w'},
          {"--verbose", 'v'},     {"--pause", 'P'},        {"--config", '1'},       {"--grace-period", '2'},
          {"--forward-delay", '3'}, {"--log-format", '4'}, {"--log-level", '5'}};
      for (auto& [long_name, s] : kLong)
        if (n == long_name) short_name = s;
      // Refused, as getopt refuses it for tini and dumb-init: taken for the
      // command, a misspelt option would run as one ("--grace-perod").
      if (!short_name) return Exit(UsageError("The following argument was not expected: " + std::string(arg)));
      name = std::string(n);
      attached = v;
      args.take();
      if (attached && std::string_view("hgcswvP").find(short_name) != std::string_view::npos)
        return Exit(UsageError(name + ": flag given a value"));
    } else {
      // A cluster of short options: flags, then at most one option whose
      // value is the rest of the cluster or the next argument ("-gve3").
      std::string_view cluster = arg.substr(1);
      size_t letters = cluster.find_first_not_of("hgcswvP");  // flags first
      if (letters != std::string_view::npos && std::string_view("rep").find(cluster[letters]) == std::string_view::npos)
        return Exit(UsageError("The following argument was not expected: " + std::string(arg)));
      args.take();
      for (size_t i = 0; i < cluster.size() && !short_name; ++i) {
        switch (char c = cluster[i]) {
          case 'h': PrintInitHelp(); return Exit(0);
          case 'g': f.group = true; break;
          case 'c': f.single_child = true; break;
          case 's': break;  // tini -s: init registers as subreaper anyway
          case 'w': f.warn_on_reap = true; break;
          case 'v': ++f.verbose; break;
          case 'P': f.pause = true; break;
          default:
            short_name = c;
            if (i + 1 < cluster.size()) attached = cluster.substr(i + 1);
        }
      }
      if (!short_name) continue;
      name = short_name == 'r' ? "--rewrite" : short_name == 'e' ? "--expect-exit" : "--pdeathsig";
    }
    switch (short_name) {
      case 'h': PrintInitHelp(); return Exit(0);
      case 'g': f.group = true; continue;
      case 'c': f.single_child = true; continue;
      case 's': continue;
      case 'w': f.warn_on_reap = true; continue;
      case 'v': ++f.verbose; continue;
      case 'P': f.pause = true; continue;
      default: break;
    }
    // An option with one value, as getopt gives tini's and dumb-init's: -e
    // and -r are repeated for more, and `-e 143 cmd` runs cmd.
    std::string_view v;
    if (attached) {
      v = *attached;
    } else if (args.value_next()) {
      v = args.take();
    } else {
      std::string_view type = short_name == 'e' ? "INT:INT in [0 - 255]" : "TEXT";
      return Exit(UsageError(name + ": 1 required " + std::string(type) + " missing"));
    }
    // Not taken as absent: `--pdeathsig=$SIG` with SIG unset would
    // otherwise start init without what the user asked for.
    if (v.empty()) return Exit(UsageError(name + ": empty value"));
    switch (short_name) {
      case 'r': f.rewrites.emplace_back(v); break;
      case 'e': {
        auto code = ParseIntInRange(v, 0, 255);
        if (!code) return Exit(UsageError("--expect-exit: Value " + std::string(v) + " not in range 0 to 255"));
        f.expect_exit.push_back(*code);
        break;
      }
      case 'p': f.pdeathsig = v; break;
      case '1': f.config = {std::string(v), true}; break;
      case '2': f.grace_period = v; break;
      case '3': f.forward_delay = v; break;
      case '4': f.log_format = v; break;
      case '5': f.log_level = v; break;
    }
  }
  f.command = args.rest();
  return {true, 0};
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
    if (const char* why = RewriteSourceError(rw->first)) return "--rewrite " + r + ": " + why;
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

int RunInitCommand(const InitFlags& flags) {
  InitOptions options;
  if (auto err = ApplyConfigFile(flags.config.path, flags.config.must_exist, options.config)) {
    // Escaped: a quoted key's escapes can put any byte in the message.
    Print(stderr, "tazpod init: " + EscapeUntrustedText(*err) + "\n");
    return kExitUsage;
  }
  ApplyEnvironment(options.config);
  if (std::string err = ApplyFlags(flags, options.config); !err.empty()) {
    Print(stderr, "tazpod init: " + EscapeUntrustedText(err) + "\n");
    return kExitUsage;
  }
  options.command = flags.command;
  return RunInit(options);
}

// `tazpod vault ACTION [--socket PATH] [--passphrase-stdin]`.
Outcome ParseVaultArgs(Args& args, VaultCommand& v) {
  v.socket = session::kDefaultSocketPath;
  while (!args.done()) {
    std::string_view arg = args.take();
    auto [name, value] = SplitLong(arg);
    if (arg == "-h" || arg == "--help") {
      PrintVaultHelp();
      return Exit(0);
    } else if (name == "--socket") {
      if (!value && !args.value_next()) return Exit(UsageError("--socket: 1 required TEXT missing"));
      v.socket = value ? *value : args.take();
    } else if (arg == "--passphrase-stdin") {
      v.passphrase_stdin = true;
    } else if (v.action.empty() && !arg.empty() && arg[0] != '-') {
      if (arg != "status" && arg != "unlock" && arg != "lock" && arg != "verify" && arg != "passwd")
        return Exit(UsageError("action: " + std::string(arg) + " not in {status,unlock,lock,verify,passwd}"));
      v.action = arg;
    } else {
      return Exit(UsageError("The following argument was not expected: " + std::string(arg)));
    }
  }
  if (v.action.empty()) return Exit(UsageError("action is required"));
  return {true, 0};
}

// The client subcommands but `vault` (login, status, lock, passwd, health):
// --socket, an optional --timeout in seconds, and on/off flags.
struct ClientSpec {
  std::string_view name;
  std::string_view summary;
  int timeout_max = 0;  // 0: no --timeout
  int timeout_default = 0;
  std::string_view timeout_help;
  std::vector<std::pair<std::string_view, std::string_view>> flags;  // name, help
};

struct ClientArgs {
  std::string socket = session::kDefaultSocketPath;
  int timeout_s = 0;
  std::vector<std::string_view> flags;  // the flags given
  bool has(std::string_view flag) const {
    for (std::string_view f : flags)
      if (f == flag) return true;
    return false;
  }
};

void PrintClientHelp(const ClientSpec& spec) {
  std::string text = std::string(spec.summary) + "\nUsage: tazpod " + std::string(spec.name) +
                     " [OPTIONS]\n\nOptions:\n  -h,--help                   Print this help message and exit\n";
  for (auto& [flag, help] : spec.flags) {
    std::string line = "  " + std::string(flag);
    line.resize(30, ' ');
    text += line + std::string(help) + "\n";
  }
  text += "  --socket TEXT=/run/tazpod/control.sock\n                              PID 1's control socket\n";
  if (spec.timeout_max)
    text += "  --timeout INT:INT in [1 - " + std::to_string(spec.timeout_max) + "]=" +
            std::to_string(spec.timeout_default) + "\n                              " + std::string(spec.timeout_help) + "\n";
  Print(stdout, text);
  Print(stdout, kSubcommandFooter);
}

Outcome ParseClientArgs(Args& args, const ClientSpec& spec, ClientArgs& out) {
  out.timeout_s = spec.timeout_default;
  const std::string range = "INT:INT in [1 - " + std::to_string(spec.timeout_max) + "]";
  while (!args.done()) {
    std::string_view arg = args.take();
    auto [name, value] = SplitLong(arg);
    bool flag = false;
    for (auto& [f, help] : spec.flags)
      if (arg == f) flag = true;
    if (arg == "-h" || arg == "--help") {
      PrintClientHelp(spec);
      return Exit(0);
    } else if (flag) {
      out.flags.push_back(arg);
    } else if (name == "--socket" || (spec.timeout_max && name == "--timeout")) {
      if (!value && !args.value_next())
        return Exit(UsageError(std::string(name) + ": 1 required " + (name == "--socket" ? "TEXT" : range) + " missing"));
      std::string_view v = value ? *value : args.take();
      if (name == "--socket") {
        out.socket = v;
        continue;
      }
      auto seconds = ParseIntInRange(v, 1, spec.timeout_max);
      if (!seconds)
        return Exit(UsageError("--timeout: Value " + std::string(v) + " not in range 1 to " + std::to_string(spec.timeout_max)));
      out.timeout_s = *seconds;
    } else {
      return Exit(UsageError("The following argument was not expected: " + std::string(arg)));
    }
  }
  return {true, 0};
}

int RunClientCommand(std::string_view name, Args& args) {
  static const ClientSpec kLogin{"login", "Prove the vault's passphrase and get a shell as the workstation user", 3600, 120,
                                 "Seconds to type each passphrase", {}};
  static const ClientSpec kStatus{"status", "Show the vault's state and the open sessions", 0, 0, "",
                                  {{"--json", "One JSON object instead of text"}}};
  static const ClientSpec kLock{"lock", "Lock the vault now (refused while sessions are open)", 0, 0, "",
                                {{"--force", "End the open sessions first (they are hung up)"}}};
  static const ClientSpec kPasswd{"passwd", "Change the vault's passphrase (asked on the terminal)", 3600, 120,
                                  "Seconds to type each passphrase", {}};
  static const ClientSpec kHealth{"health", "Ask PID 1 whether it is healthy: exit 0 or 1, with one line (HEALTHCHECK)",
                                  300, 5, "Seconds to wait for an answer", {}};
  const ClientSpec& spec = name == "login"    ? kLogin
                           : name == "status" ? kStatus
                           : name == "lock"   ? kLock
                           : name == "passwd" ? kPasswd
                                              : kHealth;
  ClientArgs parsed;
  Outcome o = ParseClientArgs(args, spec, parsed);
  if (!o.run) return o.exit_code;
  if (name == "login") {
    session::LoginCommand login;
    login.socket = parsed.socket;
    login.prompt_timeout = std::chrono::seconds(parsed.timeout_s);
    return session::RunLogin(login);
  }
  if (name == "health") {
    HealthCommand health;
    health.socket = parsed.socket;
    health.timeout = std::chrono::seconds(parsed.timeout_s);
    return RunHealthCommand(health);
  }
  session::UserCommand user;
  user.socket = parsed.socket;
  user.json = parsed.has("--json");
  user.force = parsed.has("--force");
  user.prompt_timeout = std::chrono::seconds(parsed.timeout_s ? parsed.timeout_s : 120);
  if (name == "status") return session::RunStatus(user);
  if (name == "lock") return session::RunLock(user);
  return session::RunPasswd(user);
}

}  // namespace

int RunCli(int argc, char** argv) {
  // Top-level options come before the subcommand.
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg == "--version") {
      Print(stdout, std::string("tazpod ") + kVersion + "\n");
      return 0;
    }
    if (arg == "-h" || arg == "--help") {
      Print(stdout, kTopHelp);
      return 0;
    }
    break;
  }
  if (i == argc || (std::string_view(argv[i]) == "--" && i + 1 == argc)) {
    Print(stderr, kTopHelp);
    return kExitUsage;
  }
  std::string_view subcommand = argv[i];
  if (subcommand == "init") {
    // Everything after `init` as it is: a "--" where an option could stand
    // ends init's options, and any later "--" belongs to the main child's
    // command line (`npm run dev -- --host`), as with tini.
    Args args(std::vector<std::string_view>(argv + i + 1, argv + argc));
    InitFlags flags;
    Outcome o = ParseInitArgs(args, flags);
    return o.run ? RunInitCommand(flags) : o.exit_code;
  }
  // Every other subcommand takes no command line: "--" ends its arguments,
  // and nothing may follow.
  char** const rest = argv + i + 1;
  char** const end = argv + argc;
  char** const dashes = std::find_if(rest, end, [](const char* arg) { return std::string_view(arg) == "--"; });
  if (subcommand == "--" || (dashes != end && dashes + 1 != end)) {
    Print(stderr, "tazpod: arguments after \"--\" are only for `tazpod init`\n");
    return kExitUsage;
  }
  Args args(std::vector<std::string_view>(rest, dashes));
  const bool client = subcommand == "login" || subcommand == "status" || subcommand == "lock" ||
                      subcommand == "passwd" || subcommand == "health";
  if (subcommand != "vault" && !client)
    return UsageError("The following argument was not expected: " + std::string(subcommand));
  // A reply with a field of an unexpected type (from a PID 1 of another
  // version, or a bug) throws from nlohmann::json's value(): caught here,
  // the stack unwinds (the terminal's mode restored, the passphrases
  // wiped) and the command ends as when PID 1's reply cannot be read,
  // rather than in std::terminate.
  try {
    if (client) return RunClientCommand(subcommand, args);
    VaultCommand vault;
    Outcome o = ParseVaultArgs(args, vault);
    return o.run ? RunVaultCommand(vault) : o.exit_code;
  } catch (const nlohmann::json::exception& e) {
    const std::string why = std::string("malformed reply from the supervisor (") + e.what() + ")\n";
    // health: unhealthy, in its one line on stdout; the others: PID 1 is
    // not to be understood.
    if (subcommand == "health") {
      Print(stdout, "unhealthy: " + why);
      return 1;
    }
    Print(stderr, "tazpod " + std::string(subcommand) + ": " + why);
    return kExitUnreachable;
  }
}

}  // namespace tazpod::init
