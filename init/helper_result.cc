#include "init/helper_result.h"

#include <cstring>

namespace tazpod::init {

std::string ResultField(const std::string& line, std::string_view key) {
  size_t at = 0;
  for (;;) {
    at = line.find(key, at);
    if (at == std::string::npos) return "";
    const bool starts_token = at == 0 || line[at - 1] == ' ';
    at += key.size();
    if (starts_token && at < line.size() && line[at] == '=') break;
  }
  ++at;
  return line.substr(at, line.find(' ', at) - at);
}

std::string NeverStartedResult(int error) {
  return "result=error kind=system step=" + std::string(kNeverStartedStep) +
         " message=\"cannot start the vault helper: " + std::strerror(error) + "\"";
}

int ExitCodeOfResult(const std::string& line) {
  if (line.starts_with("result=ok")) return 0;
  const std::string kind = ResultField(line, "kind");
  if (kind == "wrong_passphrase") return 2;
  if (kind == "busy") return 3;
  if (kind == "invalid") return 4;
  return 1;
}

VaultOutcome OutcomeOfResult(int exit_code, const std::string& line) {
  VaultOutcome o;
  o.ok = exit_code == 0;
  if (o.ok) {
    const std::string failed = ResultField(line, "hooks_failed");
    if (!failed.empty()) o.message = "a hook failed (hooks_failed=" + failed + "); see the logs";
    return o;
  }
  o.step = ResultField(line, "step");
  // The kind a result line says, where there is one: the helper's own, or
  // the one PID 1 writes for a helper that ended without it (kind=system),
  // whose exit code then means nothing (an exit 2 is no wrong passphrase,
  // which the gate would throttle as one). The exit code only without.
  switch (line.starts_with("result=") ? ExitCodeOfResult(line) : exit_code) {
    case 2: o.kind = "wrong_passphrase"; break;
    case 3: o.kind = "busy"; break;
    case 4: o.kind = "invalid"; break;
    default: o.kind = "system"; break;
  }
  auto at = line.find("message=\"");
  if (at != std::string::npos) {
    o.message = line.substr(at + 9);
    if (!o.message.empty() && o.message.back() == '"') o.message.pop_back();
  } else {
    o.message = exit_code < 0 ? "the vault helper was killed" : "the vault helper failed (exit " + std::to_string(exit_code) + ")";
  }
  return o;
}

}  // namespace tazpod::init
