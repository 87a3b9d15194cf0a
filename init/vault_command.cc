#include "init/vault_command.h"

#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "common/no_core_dumps.h"
#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/protocol.h"

namespace tazpod::init {

namespace {

constexpr int kExitUnreachable = 69;

// Reads stdin into `out` up to its capacity, dropping one trailing newline
// per line; with `two_lines`, the first line and the second are joined by a
// NUL byte (old and new passphrase).
bool ReadPassphrases(SecretBuffer& out, bool two_lines) {
  char c = 0;
  bool fits = true;
  int lines = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n') {
      ++lines;
      if (two_lines && lines == 1) {
        if (!(fits = out.PushBack('\0'))) break;
        continue;
      }
      break;
    }
    if (!(fits = out.PushBack(c))) break;
  }
  explicit_bzero(&c, sizeof c);  // the last byte read, on every way out
  return fits && out.size() > 0;
}

// A failed write to stderr has nowhere to be reported; the exit status still is.
void Complain(const char* action, const std::string& message) {
  (void)std::fprintf(stderr, "tazpod vault %s: %s\n", action, message.c_str());
}

int ExitCodeOf(const nlohmann::json& reply) {
  if (reply.value("ok", false)) return 0;
  const std::string kind = reply.value("kind", "");
  if (kind == "wrong_passphrase") return 2;
  if (kind == "busy" || kind == "refused") return 3;
  if (kind == "invalid") return 4;
  return 1;
}

}  // namespace

int RunVaultCommand(const VaultCommand& command) {
  const bool needs_secret = command.action == "unlock" || command.action == "verify" || command.action == "passwd";
  // `status` and `lock` take no locked page: they must work under any
  // RLIMIT_MEMLOCK.
  SecretBuffer secret = needs_secret ? SecretBuffer(session::kMaxSecretBytes) : SecretBuffer::None();
  // stdio, not iostreams: <iostream> would make every start of this binary,
  // PID 1's too, build the standard streams and the locale first.
  const char* action = command.action.c_str();
  if (needs_secret) {
    if (const std::string why = PrepareToReadPassphrase(nullptr); !why.empty()) {
      Complain(action, why + "; refusing");
      return 1;
    }
    // As the prompts do: a passphrase is never read into memory that may be
    // swapped out.
    if (!secret.valid() || !secret.locked()) {
      Complain(action, "cannot lock memory for the passphrase (RLIMIT_MEMLOCK); refusing");
      return 1;
    }
    if (!command.passphrase_stdin) {
      Complain(action, "give the passphrase on stdin with --passphrase-stdin (people use `tazpod login`)");
      return 4;
    }
    if (!ReadPassphrases(secret, command.action == "passwd")) {
      Complain(action, "no passphrase on stdin, or too long");
      return 4;
    }
  }
  nlohmann::json header = {{"v", session::kProtocolVersion}, {"op", "vault." + command.action}};
  session::CallResult result =
      session::Call(command.socket, header, needs_secret ? &secret : nullptr, command.timeout);
  if (!result.delivered) {
    Complain(action, result.error);
    return kExitUnreachable;
  }
  const nlohmann::json& r = result.reply;
  // The line is built before it is printed: a field of the wrong type
  // throws (init/cli.cc), and must not leave half a line behind.
  // No state in a refusal that came before any vault op (a connection
  // turned away at the door): no line a script could take for one.
  if (r.contains("state")) {
    std::string line = "state=" + r.value("state", std::string("?"));
    if (r.contains("busy")) line += r.value("busy", false) ? " busy=true" : " busy=false";
    std::printf("%s\n", line.c_str());
  }
  if (!r.value("ok", false))
    Complain(action, r.value("error", "failed"));
  else if (r.contains("warning"))
    Complain(action, r.value("warning", ""));
  if (r.value("ok", false) && r.contains("last_error"))
    std::printf("last_error=%s\n", r.value("last_error", "").c_str());
  return ExitCodeOf(r);
}

}  // namespace tazpod::init
