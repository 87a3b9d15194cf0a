#include "session/login_command.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/descriptors.h"
#include "common/no_core_dumps.h"
#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "session/client_text.h"
#include "session/control_client.h"
#include "session/keys_while_waiting.h"
#include "session/protocol.h"
#include "session/terminal_prompt.h"

namespace tazpod::session {

namespace {

constexpr int kRefused = 1, kUsage = 2, kNoTerminal = 3, kNoPassphrase = 4, kUnreachable = 69, kNoShell = 126;
constexpr std::chrono::minutes kUnlockTimeout{10};  // PBKDF and mkfs on a slow machine

void Say(int tty, const std::string& text) { SayOnTerminal(tty, text); }

// Becomes the user for good and execs the login shell. Returns only on failure.
// Where the session's shell history and the image's tools keep credentials,
// when they are not told: in the home directory, on the container's disk in
// plain text, where they outlive the lock and any ungated `docker exec`
// reads them. The gated shell is told to keep them in the vault instead.
struct VaultFile {
  const char* variable;
  const char* path;  // under the vault's mount point ("": the mount point)
};
constexpr VaultFile kVaultFiles[] = {
    {"HISTFILE", "/.bash_history"},                          // bash (an `export TOKEN=…` typed)
    {"KUBECONFIG", "/.kube/config"},                         // kubectl, helm (else ~/.kube/config)
    {"TALOSCONFIG", "/.talos/config"},                       // talosctl (else ~/.talos/config)
    {"SOPS_AGE_KEY_FILE", "/.config/sops/age/keys.txt"},     // sops (else ~/.config/sops/age/keys.txt)
    {"GEMINI_CLI_HOME", ""},                                 // Gemini CLI: ~/.gemini, its OAuth credentials
};

int BecomeUserAndExecShell(const std::string& user_name, const std::string& mountpoint, int tty,
                           const struct rlimit& core_limit) {
  struct passwd* pw = getpwnam(user_name.c_str());
  if (!pw) {
    Say(tty, "tazpod login: no user " + user_name + " in this container");
    return kNoShell;
  }
  const std::string shell = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh";
  const std::string home = pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/";
  std::vector<std::string> env = {"HOME=" + home, "USER=" + user_name, "LOGNAME=" + user_name, "SHELL=" + shell,
                                  "PATH=/usr/local/bin:/usr/bin:/bin"};
  if (const char* term = std::getenv("TERM")) env.push_back(std::string("TERM=") + term);
  if (!mountpoint.empty() && mountpoint[0] == '/')
    for (const VaultFile& file : kVaultFiles) env.push_back(std::string(file.variable) + "=" + mountpoint + file.path);
  // The user's shell gets the limit the login found (ForbidCoreDumps lowered
  // only the soft one, so no capability is needed). The process stays
  // undumpable until the exec all the same, and holds no secret by now.
  setrlimit(RLIMIT_CORE, &core_limit);
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
    Say(tty, std::string("tazpod login: cannot become ") + user_name + ": " + std::strerror(errno));
    return kNoShell;
  }
  if (pw->pw_uid != 0 && setuid(0) == 0) {  // there must be no way back
    Say(tty, "tazpod login: could regain root after dropping it; refusing");
    return kNoShell;
  }
  if (chdir(home.c_str()) != 0 && chdir("/") != 0) {
    Say(tty, std::string("tazpod login: cannot enter ") + home + " or /: " + std::strerror(errno) + "; no shell.");
    return kNoShell;
  }
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = "-" + shell.substr(shell.rfind('/') + 1);  // a login shell
  char* argv[] = {argv0.data(), nullptr};
  // The shell gets the terminal (0-2) and nothing the caller left open: a
  // descriptor root's caller held must not cross into the user's shell.
  // Close-on-exec, not closed: `tty` still says why if the exec fails.
  CloseOnExecAboveStderr();
  execve(shell.c_str(), argv, envp.data());
  Say(tty, "tazpod login: cannot run " + shell + ": " + std::strerror(errno));
  return kNoShell;
}

}  // namespace

int RunLogin(const LoginCommand& command) {
  struct rlimit core_limit {};
  if (const std::string why = PrepareToReadPassphrase(&core_limit); !why.empty()) {
    const std::string msg = "tazpod login: " + why + "; refusing\n";
    ssize_t ignored = write(STDERR_FILENO, msg.data(), msg.size());
    (void)ignored;
    return kUsage;
  }
  UniqueFd tty(open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty) {
    const char* msg = "tazpod login needs a terminal: run it as `docker exec -it CONTAINER tazpod login`\n";
    ssize_t ignored = write(STDERR_FILENO, msg, std::strlen(msg));
    (void)ignored;
    return kNoTerminal;
  }
  if (geteuid() != 0) {
    Say(tty.get(), "tazpod login: start it as root (docker exec does); it drops to the workstation user itself");
    return kUsage;
  }
  CallResult status =
      AskQuietly(command.socket, {{"v", kProtocolVersion}, {"op", "gate.status"}}, tty.get(), std::chrono::seconds(10));
  if (status.abandoned) {
    Say(tty.get(), "tazpod login: interrupted; nothing was done; no shell.");
    return kNoPassphrase;
  }
  if (!status.delivered) {
    Say(tty.get(), "tazpod login: " + status.error);
    return kUnreachable;
  }
  if (!status.reply.value("ok", false)) {
    Say(tty.get(), "tazpod login: " + status.reply.value("error", std::string("the gate is not available")));
    return kRefused;
  }
  if (long long wait = status.reply.value("retry_after_ms", 0LL); wait > 0) {
    Say(tty.get(), "Too soon after a failed attempt: try again in " + SecondsText(wait) + ".");
    return kRefused;
  }
  const bool first = status.reply.value("first_login", false);
  const size_t min_length = status.reply.value("min_length", 8u);

  SecretBuffer passphrase(kMaxPassphraseBytes);
  if (first) {
    Say(tty.get(), "This vault is new: choose its passphrase (at least " + std::to_string(min_length) + " characters).");
    PromptResult r;
    switch (ReadNewPassphrase(tty.get(), "New vault passphrase: ", passphrase, min_length, command.prompt_timeout, &r)) {
      case NewPassphrase::kOk: break;
      case NewPassphrase::kPromptFailed:
        Say(tty.get(), "tazpod login: " + std::string(Describe(r)) + "; no shell.");
        return kNoPassphrase;
      case NewPassphrase::kDiffer:
        Say(tty.get(), "tazpod login: the passphrases differ; nothing was created.");
        return kRefused;
      case NewPassphrase::kTooShort:
        Say(tty.get(), "tazpod login: too short (at least " + std::to_string(min_length) + " characters).");
        return kRefused;
    }
  } else {
    PromptResult r = ReadPassphrase(tty.get(), "Vault passphrase: ", passphrase, command.prompt_timeout);
    if (r != PromptResult::kOk) {
      Say(tty.get(), "tazpod login: " + std::string(Describe(r)) + "; no shell.");
      return kNoPassphrase;
    }
  }
  nlohmann::json request = {{"v", kProtocolVersion}, {"op", "gate.login"}, {"create", first}};
  CallResult login;
  bool interrupted = false;
  {
    // Ctrl+C now would not stop the unlock, only the login's word of it:
    // held, and answered at once; a second one leaves without that word.
    KeyboardSignalsHeld held;
    EchoOff quiet(tty.get());
    Say(tty.get(), first ? "Creating the vault..." : "Unlocking...");
    const CallWake keys = AnswerKeysWhileWaiting(
        held, tty.get(),
        "Interrupted: PID 1 does not stop an unlock half way; waiting for its answer, to say what was done "
        "(press again to leave now).",
        SecondKey::kLeaves);
    login = Call(command.socket, request, &passphrase, kUnlockTimeout, keys);
    interrupted = held.Interrupted();
  }
  if (login.abandoned && !login.sent) {
    Say(tty.get(), "tazpod login: interrupted before PID 1 took the request: nothing was done; no shell.");
    return kNoPassphrase;
  }
  if (login.abandoned) {
    Say(tty.get(), std::string("tazpod login: left before PID 1 answered; no shell. ") +
                       (first ? "The vault may have been created with the passphrase just chosen; it" : "The vault") +
                       " locks again once no session holds it.");
    return kNoPassphrase;
  }
  if (!login.delivered) {
    Say(tty.get(), "tazpod login: " + login.error + "; no shell.");
    return kUnreachable;
  }
  const nlohmann::json& r = login.reply;
  if (!r.value("ok", false)) {
    const std::string kind = r.value("kind", "");
    const std::string error = r.value("error", std::string("refused"));
    // A wrong passphrase may come with why some keyslots were not tried.
    std::string text = kind != "wrong_passphrase"                ? "tazpod login: " + error
                       : error.starts_with("wrong passphrase ") ? "Wrong" + error.substr(5) + "."
                                                                 : "Wrong passphrase.";
    Say(tty.get(), WithNextAttempt(text, r.value("retry_after_ms", 0LL)));
    return kRefused;
  }
  // Asked to stop while it unlocked: no shell, but word of what was done.
  // The vault locks as any whose last session ends.
  if (interrupted) {
    Say(tty.get(), std::string(first ? "The vault was created" : "The vault was unlocked") +
                       ", but the login was interrupted: no shell.");
    return kNoPassphrase;
  }
  // The vault is mounted in a namespace only sessions join: enter it while
  // still root (setns needs CAP_SYS_ADMIN), or get no shell at all.
  if (r.value("mount_namespace", false) &&
      (!login.descriptor || setns(login.descriptor.get(), CLONE_NEWNS) != 0)) {
    Say(tty.get(), std::string("tazpod login: cannot enter the vault's mount namespace: ") +
                       (login.descriptor ? std::strerror(errno) : "PID 1 did not pass it") + "; no shell.");
    return kNoShell;
  }
  login.descriptor.Reset();
  const std::string user = r.value("user", std::string());
  const std::string mountpoint = r.value("mountpoint", std::string());
  Say(tty.get(), "Vault open at " + (mountpoint.empty() ? std::string("~/secrets") : mountpoint) + ".");
  return BecomeUserAndExecShell(user, mountpoint, tty.get(), core_limit);
}

}  // namespace tazpod::session
