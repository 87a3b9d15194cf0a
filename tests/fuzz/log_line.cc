// Fuzz target: a structured log line (common/log.h). Field values come from
// outside PID 1 (command names, paths, error texts from the kernel and
// libcryptsetup) and may hold any bytes. Whatever they hold, a line must
// stay one line, a JSON line must parse as JSON and be valid UTF-8 (a log
// collector drops it otherwise), and a value that was valid UTF-8 must read
// back unchanged.
//
// The first input byte picks the format and the level; the rest is split at
// NUL bytes into the event, then key/value pairs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"

using namespace tazpod;

namespace {

bool IsUtf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();  // throws on bytes that are not UTF-8
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const LogFormat format = (data[0] & 1) ? LogFormat::kJson : LogFormat::kText;
  const auto level = static_cast<LogLevel>((data[0] >> 1) % 4);

  std::vector<std::string> parts(1);
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == 0) parts.emplace_back();
    else parts.back() += static_cast<char>(data[i]);
  }
  // Events and keys are names written in PID 1's code (`init.child.exit`,
  // `pid`), never data: only their letters, digits, '_' and '.' are kept.
  for (std::size_t i = 0; i < parts.size(); i += (i == 0 ? 1 : 2)) {
    std::erase_if(parts[i], [](char c) {
      return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.');
    });
  }
  const std::string& event = parts[0];
  std::vector<LogField> fields;
  for (std::size_t i = 1; i + 1 < parts.size(); i += 2) fields.emplace_back(parts[i], parts[i + 1]);

  const std::string line = FormatLogLine(format, 1795910400123, level, event, fields);
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) std::abort();
  if (!IsUtf8(line)) std::abort();
  if (format == LogFormat::kText) {
    for (unsigned char c : line.substr(0, line.size() - 1))
      if (c < 0x20 || c == 0x7f) std::abort();  // control characters are escaped
    return 0;
  }

  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    std::abort();
  }
  if (!parsed.is_object() || !parsed["event"].is_string()) std::abort();
  // Keys are the caller's (PID 1's are fixed names); a repeated one, or a
  // field named like the line's own keys, makes JSON keep the last value.
  const auto count_key = [&](std::string_view key) {
    std::size_t n = 0;
    for (const LogField& f : fields) n += f.key() == key;
    return n;
  };
  if (IsUtf8(event) && count_key("event") == 0 && parsed["event"] != event) std::abort();
  for (const LogField& f : fields) {
    const std::string key(f.key());
    if (key == "time" || key == "level" || key == "event" || !IsUtf8(key) || !IsUtf8(f.value())) continue;
    if (count_key(key) == 1 && parsed[key] != f.value()) std::abort();
  }
  return 0;
}
