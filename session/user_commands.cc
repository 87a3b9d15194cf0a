#include "session/user_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

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

constexpr int kFailed = 1, kNoTerminal = 3, kSessionsOpen = 3, kNoPassphrase = 4, kUnreachable = 69;
constexpr std::chrono::seconds kQuick{10};
// A forced lock waits for sessions to hang up, holders to end, the unmount.
constexpr std::chrono::minutes kSlow{5};

// A failed write to stderr has nowhere to be reported; the exit status still is.
void Error(const char* command, const std::string& text) {
  (void)std::fprintf(stderr, "tazpod %s: %s\n", command, text.c_str());
}

void Say(int tty, const std::string& text) { SayOnTerminal(tty, text); }

nlohmann::json Request(const char* op) { return {{"v", kProtocolVersion}, {"op", op}}; }

}  // namespace

int RunStatus(const UserCommand& command) {
  CallResult gate = Call(command.socket, Request("gate.status"), nullptr, kQuick);
  if (!gate.delivered) {
    Error("status", gate.error);
    return kUnreachable;
  }
  // Refused (a uid the socket does not serve, too many connections, no
  // gate): its error, not a status made of defaults.
  if (!gate.reply.value("ok", false)) {
    Error("status", gate.reply.value("error", std::string("refused")));
    return kFailed;
  }
  CallResult vault = Call(command.socket, Request("vault.status"), nullptr, kQuick);
  const nlohmann::json& g = gate.reply;
  const nlohmann::json v = vault.delivered ? vault.reply : nlohmann::json::object();
  if (command.json) {
    nlohmann::json out = {{"vault", g.value("vault", "unknown")},
                          {"busy", v.value("busy", false)},
                          {"sessions", g.value("sessions", 0)},
                          {"user", g.value("user", "")},
                          {"mountpoint", g.value("mountpoint", "")},
                          {"retry_after_ms", g.value("retry_after_ms", 0LL)},
                          {"change_retry_after_ms", g.value("change_retry_after_ms", 0LL)}};
    if (v.contains("last_error")) out["last_error"] = v.value("last_error", "");
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("vault:    %s%s\n", g.value("vault", "unknown").c_str(), v.value("busy", false) ? " (busy)" : "");
  std::printf("sessions: %d\n", g.value("sessions", 0));
  std::printf("mount:    %s (user %s)\n", g.value("mountpoint", "").c_str(), g.value("user", "").c_str());
  const long long wait = g.value("retry_after_ms", 0LL);
  if (wait > 0) std::printf("throttle: next passphrase heard in %s\n", SecondsText(wait).c_str());
  if (long long change = g.value("change_retry_after_ms", 0LL); change > wait)
    std::printf("throttle: next passphrase change heard in %s\n", SecondsText(change).c_str());
  if (v.contains("last_error")) std::printf("error:    %s\n", v.value("last_error", "").c_str());
  return 0;
}

int RunLock(const UserCommand& command) {
  nlohmann::json request = Request("gate.lock");
  request["force"] = command.force;
  CallResult r = Call(command.socket, request, nullptr, kSlow);
  if (!r.delivered) {
    Error("lock", r.error);
    return kUnreachable;
  }
  if (r.reply.value("ok", false)) {
    std::printf("vault: %s\n", r.reply.value("vault", "locked").c_str());
    return 0;
  }
  Error("lock", r.reply.value("error", std::string("refused")));
  return r.reply.value("kind", "") == "sessions" ? kSessionsOpen : kFailed;
}

int RunPasswd(const UserCommand& command) {
  if (const std::string why = PrepareToReadPassphrase(nullptr); !why.empty()) {
    Error("passwd", why + "; refusing");
    return kFailed;
  }
  UniqueFd tty(open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty) {
    Error("passwd", "needs a terminal: run it in a session, or as `docker exec -it CONTAINER tazpod passwd`");
    return kNoTerminal;
  }
  CallResult status = AskQuietly(command.socket, Request("gate.status"), tty.get(), kQuick);
  if (status.abandoned) {
    Say(tty.get(), "tazpod passwd: interrupted; nothing changed.");
    return kNoPassphrase;
  }
  if (!status.delivered) {
    Error("passwd", status.error + "; nothing changed.");
    return kUnreachable;
  }
  // No gate (the vault disabled, say): refused before asking for anything.
  if (!status.reply.value("ok", false)) {
    Say(tty.get(), "tazpod passwd: " + status.reply.value("error", std::string("the gate is not available")));
    return kFailed;
  }
  if (status.reply.value("first_login", false)) {
    Say(tty.get(), "tazpod passwd: there is no vault yet; `tazpod login` creates it.");
    return kFailed;
  }
  // Heard before the passphrases are asked for, as a login hears its wait.
  if (long long wait = status.reply.value("change_retry_after_ms", 0LL); wait > 0) {
    Say(tty.get(), "tazpod passwd: too soon after a refused attempt: try again in " + SecondsText(wait) +
                       "; nothing changed.");
    return kFailed;
  }
  const size_t min_length = status.reply.value("min_length", 8u);
  // OLD \0 NEW, as the gate expects; the confirmation is compared here.
  SecretBuffer both(kMaxSecretBytes), old(kMaxPassphraseBytes), fresh(kMaxPassphraseBytes);
  // The prompts check their own buffers; both passphrases are copied into
  // this one, which must be as safe from swap before anything is asked.
  if (!both.valid() || !both.locked()) {
    Say(tty.get(), "tazpod passwd: " + std::string(Describe(PromptResult::kNoLockedMemory)) + "; nothing changed.");
    return kNoPassphrase;
  }
  PromptResult p = ReadPassphrase(tty.get(), "Current passphrase: ", old, command.prompt_timeout);
  NewPassphrase verdict = NewPassphrase::kPromptFailed;
  if (p == PromptResult::kOk)
    verdict = ReadNewPassphrase(tty.get(), "New passphrase: ", fresh, min_length, command.prompt_timeout, &p);
  switch (verdict) {
    case NewPassphrase::kOk: break;
    case NewPassphrase::kPromptFailed:
      Say(tty.get(), "tazpod passwd: " + std::string(Describe(p)) + "; nothing changed.");
      return kNoPassphrase;
    case NewPassphrase::kDiffer:
      Say(tty.get(), "tazpod passwd: the new passphrases differ; nothing changed.");
      return kFailed;
    case NewPassphrase::kTooShort:
      Say(tty.get(), "tazpod passwd: too short (at least " + std::to_string(min_length) + " characters); nothing changed.");
      return kFailed;
  }
  // Each is at most kMaxPassphraseBytes: together with the NUL they fit.
  if (!both.Append(old.data(), old.size()) || !both.PushBack('\0') || !both.Append(fresh.data(), fresh.size())) {
    Say(tty.get(), "tazpod passwd: the passphrases are too long together; nothing changed.");
    return kFailed;
  }
  old.Clear();
  fresh.Clear();
  CallResult r;
  {
    // Ctrl+C now would not stop the change, only the word of whether it
    // was made: held, answered at once, and the answer is said as always.
    // No key leaves before it: a user who does not know which passphrase
    // works may lose the vault.
    KeyboardSignalsHeld held;
    EchoOff quiet(tty.get());
    Say(tty.get(), "Changing the passphrase...");
    const CallWake keys = AnswerKeysWhileWaiting(held, tty.get(),
                                                 "Interrupted: PID 1 does not stop a passphrase change half way; "
                                                 "waiting for its answer, to say whether it was made.",
                                                 SecondKey::kWaits);
    r = Call(command.socket, Request("gate.passwd"), &both, kSlow, keys);
  }
  if (r.abandoned) {  // a key while PID 1's backlog was full: nothing was sent
    Say(tty.get(), "tazpod passwd: interrupted before PID 1 took the request; nothing changed.");
    return kNoPassphrase;
  }
  // PID 1 has the passphrases and may have made the change: saying it was
  // not made could lose the user the only passphrase that works.
  const auto may_have_changed = [&tty](const std::string& why) {
    Say(tty.get(), "tazpod passwd: " + why +
                       " after it had the request: the passphrase may have been changed. "
                       "Log in with the new one; if it is refused, the old one still works.");
    return kUnreachable;
  };
  if (!r.delivered && r.sent) return may_have_changed(r.error);
  if (!r.delivered) {
    Say(tty.get(), "tazpod passwd: " + r.error + "; nothing changed.");
    return kUnreachable;
  }
  // A field of the wrong type throws (a PID 1 of another version, or a
  // bug): said here, since the request was had, not by the caller's catch.
  try {
    if (r.reply.value("ok", false)) {
      Say(tty.get(), "Passphrase changed.");
      return 0;
    }
    std::string text = r.reply.value("kind", "") == "wrong_passphrase"
                           ? "Wrong passphrase; nothing changed."
                           : "tazpod passwd: " + r.reply.value("error", std::string("refused"));
    Say(tty.get(), WithNextAttempt(text, r.reply.value("retry_after_ms", 0LL)));
    return kFailed;
  } catch (const nlohmann::json::exception&) {
    return may_have_changed("malformed reply from the supervisor");
  }
}

}  // namespace tazpod::session
