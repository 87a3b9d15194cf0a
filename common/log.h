// Structured logging for PID 1: one line per event on stderr, which is what
// `docker logs` shows.
//
// A line has a time (UTC, milliseconds), a level, an event name named like a
// metric (`init.child.exit`), and key=value fields. Text by default; JSON
// lines on request. Each line goes out in a single write(2), so lines from
// PID 1 never interleave mid-line with other writers of the same pipe (a
// pipe takes a line of up to PIPE_BUF bytes whole or not at all, even
// without blocking).
//
// Never log a secret: fields are for pids, names, states, durations, errors.
// Logging never fails the caller, nor, once UseNonBlockingLog has run on a
// pipe, FIFO, terminal or socket, blocks it: a write error is dropped, and
// so is a line there is no memory to build or queue; errno is kept. (Stderr
// on a regular file or /dev/null is still written blocking.) The
// fields are built by the caller, before Log is called: one that copies a
// string longer than std::string keeps inline (15 bytes in libstdc++)
// allocates there, and may throw there.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tazpod {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

std::optional<LogLevel> ParseLogLevel(std::string_view text);
std::optional<LogFormat> ParseLogFormat(std::string_view text);
std::string_view Name(LogLevel level);

// One key=value field. Numbers stay numbers in JSON; everything else is a string.
class LogField {
 public:
  LogField(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(value) {}
  LogField(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  LogField(std::string_view key, bool value) : key_(key), value_(value ? "true" : "false"), number_(true) {}
  LogField(std::string_view key, std::integral auto value)
      : key_(key), value_(std::to_string(value)), number_(true) {}

  std::string_view key() const { return key_; }
  const std::string& value() const { return value_; }
  bool is_number() const { return number_; }

 private:
  std::string_view key_;
  std::string value_;
  bool number_ = false;
};

// Chooses the format, the minimum level and the descriptor (default stderr).
// Call once at start, before any other thread exists; before it, lines go to
// stderr as text at info level. From then on Log may be called from any
// thread: it only reads the settings, builds the line in its own string and
// writes it with one write() (lines longer than PIPE_BUF may interleave).
void ConfigureLog(LogFormat format, LogLevel min_level, int fd = 2);
bool LogEnabled(LogLevel level);

// From now on lines never block the caller (common/log_output.h): they go
// to a non-blocking descriptor of the log's pipe, terminal or socket, and
// what it cannot take now waits, in order, up to a bound (beyond it lines
// are dropped, and a `log.dropped` line says how many once there is room).
// Returns that descriptor, for the caller to watch, or -1 when the log's
// descriptor is none of those, or cannot be opened again:
// then writes go on as before. PID 1 calls it once its main child is on its
// way (the open is not on the child's path).
int UseNonBlockingLog();
// Called, under the log's lock (it must not log), from whichever thread
// logged, when lines begin to wait; at once if some already do.
void SetLogWaitingCallback(std::function<void()> on_waiting);
// Writes what waits, as much as the descriptor takes now. True when some
// still waits.
bool FlushLog();
// At exit: waits at most `timeout` for what waits to be written.
void FlushLogBeforeExit(std::chrono::milliseconds timeout);

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {}) noexcept;
// The same, for a list of fields built at run time.
void LogFields(LogLevel level, std::string_view event, const std::vector<LogField>& fields) noexcept;

// `text` from outside, made safe to write into a line as it is (a hook's
// output, vault/hook_output.h): a backslash becomes \\, an ASCII control
// but a tab \xNN, a byte that is not part of well-formed UTF-8 \xNN, and a
// code point a reader never sees as text but that acts on it (a C1
// control, a line separator, a bidi override) \uNNNN. Nothing left in it
// ends a line, starts a terminal's escape sequence or reorders text.
std::string EscapeUntrustedText(std::string_view text);

// A line another process wrote (the vault helper, its hooks, mkfs), passed
// on as it is, at any level: it waits and is dropped like PID 1's own lines
// and never blocks. A newline is added when it has none.
void PassOnLine(std::string_view line) noexcept;

// CLOCK_MONOTONIC in microseconds, for `mono_us` fields: the line's own time
// is wall-clock with millisecond resolution, too coarse to time a lock, and
// other processes (the vault helper, bench tools) can read the same clock.
std::int64_t MonoMicros();

// Formats one line (with its trailing newline) without writing it. For tests.
std::string FormatLogLine(LogFormat format, std::int64_t unix_ms, LogLevel level,
                          std::string_view event, std::initializer_list<LogField> fields);
std::string FormatLogLine(LogFormat format, std::int64_t unix_ms, LogLevel level,
                          std::string_view event, const std::vector<LogField>& fields);

}  // namespace tazpod
