// Fuzz target: the vault helper's result line as PID 1 reads it
// (init/helper_result.h). Its message carries text from libcryptsetup and
// the kernel, and a helper killed mid-write leaves half a line; whatever
// arrives, PID 1 must neither crash nor read past it, and its outcome must
// stay one the gate knows: ok, or a known kind with a message.
//
// The first input byte picks the exit code the helper is said to have had
// (-1, killed, to 254); the rest is the line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "init/helper_result.h"

using namespace tazpod::init;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int exit_code = static_cast<int>(data[0]) - 1;
  const std::string line(reinterpret_cast<const char*>(data) + 1, size - 1);

  const int code = ExitCodeOfResult(line);
  if (code < 0 || code > 4 || (code == 0) != line.starts_with("result=ok")) std::abort();

  for (const char* key : {"state", "kind", "hooks_failed", "t_start_us", "detach_us", "message"}) {
    const std::string value = ResultField(line, key);
    if (value.size() > line.size() || value.find(' ') != std::string::npos) std::abort();
  }

  for (int c : {exit_code, code}) {
    const VaultOutcome o = OutcomeOfResult(c, line);
    if (o.ok != (c == 0)) std::abort();
    if (!o.ok && (o.kind.empty() || (o.message.empty() && line.find("message=\"") == std::string::npos))) std::abort();
    if (o.message.size() > line.size() + 64) std::abort();
  }
  return 0;
}
