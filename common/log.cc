#include "common/log.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <span>
#include <utility>

#include "common/log_output.h"

namespace tazpod {

namespace {

struct LogSettings {
  LogFormat format = LogFormat::kText;
  LogLevel min_level = LogLevel::kInfo;
  int fd = 2;
};
LogSettings g_settings;

// PID 1's lines once UseNonBlockingLog has run (common/log_output.h). Under
// g_output_lock: the signal thread logs too. Never freed: a line may come
// from that thread until the process exits.
struct NonBlockingLog {
  explicit NonBlockingLog(UniqueFd descriptor) : fd(std::move(descriptor)), output(fd.get()) {}
  UniqueFd fd;
  LogOutput output;
  std::function<void()> on_waiting;
};
std::mutex g_output_lock;
NonBlockingLog* g_output = nullptr;

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t length;
  unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) length = 2;
  else if (c == 0xe0) length = 3, low = 0xa0;
  else if (c == 0xed) length = 3, high = 0x9f;
  else if (c >= 0xe1 && c <= 0xef) length = 3;
  else if (c == 0xf0) length = 4, low = 0x90;
  else if (c == 0xf4) length = 4, high = 0x8f;
  else if (c >= 0xf1 && c <= 0xf3) length = 4;
  else return 0;
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

// The code point of the well-formed sequence of `length` bytes at s[i].
char32_t DecodeUtf8(std::string_view s, size_t i, size_t length) {
  const auto byte = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
  char32_t c = byte(i) & (length == 2 ? 0x1f : length == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < length; ++k) c = (c << 6) | (byte(i + k) & 0x3f);
  return c;
}

// Well-formed code points that a reader of the log never sees as text but
// that act on it: the C1 controls (U+0085 is a line break to many readers,
// U+009B starts a terminal's escape sequence as ESC [ does), the line and
// paragraph separators (line breaks to JavaScript and Python), and the
// marks and overrides that reorder text on screen. A value from outside (an
// op a client sent, a command's name) could use them to forge a line or to
// hide part of one, so they are escaped like the ASCII controls.
bool IsHiddenControl(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

// Whether a text value can be written as it is: well-formed UTF-8 with
// nothing that AppendJsonString would escape.
bool IsPlainUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0 || IsHiddenControl(DecodeUtf8(s, i, n))) return false;
    i += n;
  }
  return true;
}

// A JSON string literal. Values come from outside (command names, paths,
// error texts) and may hold any bytes; a JSON line must stay valid UTF-8
// for log collectors, so each byte that is not part of a well-formed
// sequence becomes U+FFFD, and a hidden control (above) is escaped.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out += "\\ufffd";
      } else if (const char32_t code = DecodeUtf8(s, i, n); IsHiddenControl(code)) {
        char buf[8];
        (void)std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(code));  // below U+10000: 7 bytes
        out += buf;
        i += n - 1;
      } else {
        out.append(s, i, n);
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          (void)std::snprintf(buf, sizeof buf, "\\u%04x", c);  // 7 bytes: always fits
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Text values are quoted when they would otherwise be ambiguous to a reader
// or a log parser (spaces, quotes, '=', control characters, hidden ones
// too, empty).
void AppendTextValue(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  }
  if (!IsPlainUtf8(s)) plain = false;  // quoted, so bad bytes become U+FFFD and hidden controls \\uXXXX
  if (plain) {
    out += s;
  } else {
    AppendJsonString(out, s);
  }
}

// UTC calendar date of a day count since 1970-01-01 (proleptic Gregorian,
// in 400-year eras). Done here rather than with gmtime_r(), which makes glibc
// open and parse /etc/localtime on the first log line, for a zone UTC
// never needs.
void CivilFromDays(std::int64_t days, int& year, int& month, int& day) {
  days += 719468;  // shift the epoch to 0000-03-01
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;                                // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                  // March = 0
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

void AppendTime(std::string& out, std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  int year = 0, month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  char buf[64];
  // At most 24 bytes for any year up to 9999: always fits.
  (void)std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60), static_cast<int>(unix_ms % 1000));
  out += buf;
}

std::int64_t NowUnixMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

std::string EscapeUntrustedText(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  const auto append_byte = [&out](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        append_byte(c);
      } else if (const char32_t code = DecodeUtf8(text, i, n); IsHiddenControl(code)) {
        char buf[8];
        (void)std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(code));  // below U+10000: 6 bytes
        out += buf;
        i += n - 1;
      } else {
        out.append(text, i, n);
        i += n - 1;
      }
    } else if (c == '\\') {
      out += "\\\\";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      append_byte(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string_view Name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void ConfigureLog(LogFormat format, LogLevel min_level, int fd) {
  g_settings = LogSettings{format, min_level, fd};
}

bool LogEnabled(LogLevel level) { return level >= g_settings.min_level; }

namespace {

std::string FormatLine(LogFormat format, std::int64_t unix_ms, LogLevel level, std::string_view event,
                       std::span<const LogField> fields) {
  std::string line;
  line.reserve(128);
  if (format == LogFormat::kJson) {
    line += "{\"time\":\"";
    AppendTime(line, unix_ms);
    line += "\",\"level\":\"";
    line += Name(level);
    line += "\",\"event\":";
    AppendJsonString(line, event);
    for (const LogField& f : fields) {
      line += ',';
      AppendJsonString(line, f.key());
      line += ':';
      if (f.is_number()) {
        line += f.value();
      } else {
        AppendJsonString(line, f.value());
      }
    }
    line += "}\n";
    return line;
  }
  AppendTime(line, unix_ms);
  line += ' ';
  line += Name(level);
  line += ' ';
  line += event;
  for (const LogField& f : fields) {
    line += ' ';
    line += f.key();
    line += '=';
    AppendTextValue(line, f.value());
  }
  line += '\n';
  return line;
}

// Writes what waits, then, once nothing does, says how many lines were
// dropped, if any were. Under g_output_lock.
void FlushWaiting(NonBlockingLog& log) {
  log.output.Flush();
  if (log.output.waiting()) return;
  if (const size_t dropped = log.output.TakeDropped()) {
    const LogField field("lines", dropped);
    log.output.Write(FormatLine(g_settings.format, NowUnixMs(), LogLevel::kWarn, "log.dropped", {&field, 1}));
  }
}

// False when there is no non-blocking log: the caller writes the line itself.
bool WriteNonBlocking(std::string_view line) {
  std::lock_guard lock(g_output_lock);
  if (!g_output) return false;
  const bool was_waiting = g_output->output.waiting();
  FlushWaiting(*g_output);
  g_output->output.Write(line);
  if (!was_waiting && g_output->output.waiting() && g_output->on_waiting) g_output->on_waiting();
  return true;
}

// Callers log right after a failed call and then read errno.
class KeepErrno {
 public:
  KeepErrno() : saved_(errno) {}
  ~KeepErrno() { errno = saved_; }
  KeepErrno(const KeepErrno&) = delete;
  KeepErrno& operator=(const KeepErrno&) = delete;

 private:
  int saved_;
};

// One whole line (with its newline) to the log's descriptor. Out of memory
// to queue it, it is dropped.
void WriteLine(std::string_view line) noexcept {
  bool written = true;
  try {
    written = WriteNonBlocking(line);
  } catch (...) {
  }
  if (!written) {
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::write(g_settings.fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nowhere to report a logging failure: drop the line
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }
}

// Never throws: a line that cannot be built (no memory) is dropped, for a
// failure to log must not become one the caller cannot survive (the
// reaper's pass, the shutdown).
void Write(LogLevel level, std::string_view event, std::span<const LogField> fields) noexcept {
  if (!LogEnabled(level)) return;
  const KeepErrno keep_errno;
  try {
    WriteLine(FormatLine(g_settings.format, NowUnixMs(), level, event, fields));
  } catch (...) {
  }
}

}  // namespace

std::string FormatLogLine(LogFormat format, std::int64_t unix_ms, LogLevel level, std::string_view event,
                          std::initializer_list<LogField> fields) {
  return FormatLine(format, unix_ms, level, event, std::span<const LogField>(fields.begin(), fields.size()));
}

std::string FormatLogLine(LogFormat format, std::int64_t unix_ms, LogLevel level, std::string_view event,
                          const std::vector<LogField>& fields) {
  return FormatLine(format, unix_ms, level, event, std::span<const LogField>(fields.data(), fields.size()));
}

int UseNonBlockingLog() {
  UniqueFd fd = OpenNonBlocking(g_settings.fd);
  if (!fd) return -1;
  const int number = fd.get();
  std::lock_guard lock(g_output_lock);
  // Called again (tests): the lines the old one held go first.
  if (g_output) FlushWaiting(*g_output);
  delete std::exchange(g_output, new NonBlockingLog(std::move(fd)));
  return number;
}

void SetLogWaitingCallback(std::function<void()> on_waiting) {
  std::lock_guard lock(g_output_lock);
  if (!g_output) return;
  g_output->on_waiting = std::move(on_waiting);
  if (g_output->on_waiting && g_output->output.waiting()) g_output->on_waiting();
}

bool FlushLog() {
  std::lock_guard lock(g_output_lock);
  if (!g_output) return false;
  FlushWaiting(*g_output);
  return g_output->output.waiting();
}

void FlushLogBeforeExit(std::chrono::milliseconds timeout) {
  const std::int64_t deadline = MonoMicros() + timeout.count() * 1000;
  for (;;) {
    int fd;
    {
      std::lock_guard lock(g_output_lock);
      if (!g_output) return;
      FlushWaiting(*g_output);
      if (!g_output->output.waiting()) return;
      fd = g_output->fd.get();
    }
    const std::int64_t left_us = deadline - MonoMicros();
    if (left_us <= 0) return;
    struct pollfd p {fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>((left_us + 999) / 1000)) == 0) return;
  }
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) noexcept {
  Write(level, event, std::span<const LogField>(fields.begin(), fields.size()));
}

void LogFields(LogLevel level, std::string_view event, const std::vector<LogField>& fields) noexcept {
  Write(level, event, std::span<const LogField>(fields.data(), fields.size()));
}

void PassOnLine(std::string_view line) noexcept {
  const KeepErrno keep_errno;
  if (!line.empty() && line.back() == '\n') {
    WriteLine(line);
    return;
  }
  try {
    std::string whole;
    whole.reserve(line.size() + 1);
    whole.append(line);
    whole += '\n';
    WriteLine(whole);
  } catch (...) {
  }
}

std::int64_t MonoMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace tazpod
