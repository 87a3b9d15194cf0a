#include "common/log.h"

#include <catch2/catch_test_macros.hpp>

using tazpod::EscapeUntrustedText;
using tazpod::FormatLogLine;
using tazpod::LogFormat;
using tazpod::LogLevel;

namespace {
constexpr std::int64_t kTime = 1795910400123;  // 2026-11-29T00:00:00.123Z
}

TEST_CASE("log: text lines have time, level, event and fields") {
  std::string line = FormatLogLine(LogFormat::kText, kTime, LogLevel::kInfo, "init.child.exit",
                                   {{"pid", 42}, {"command", "sh"}});
  CHECK(line == "2026-11-29T00:00:00.123Z info init.child.exit pid=42 command=sh\n");
}

TEST_CASE("log: text values that need it are quoted and escaped") {
  std::string line = FormatLogLine(LogFormat::kText, kTime, LogLevel::kError, "x",
                                   {{"error", "No such file"}, {"empty", ""}, {"nl", "a\nb"}});
  CHECK(line == "2026-11-29T00:00:00.123Z error x error=\"No such file\" empty=\"\" nl=\"a\\nb\"\n");
}

TEST_CASE("log: JSON lines keep numbers as numbers and escape strings") {
  std::string line = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kWarn, "init.reap.foreign",
                                   {{"pid", 7}, {"ok", true}, {"cmd", "a\"b\\c\x01"}});
  CHECK(line ==
        "{\"time\":\"2026-11-29T00:00:00.123Z\",\"level\":\"warn\",\"event\":\"init.reap.foreign\","
        "\"pid\":7,\"ok\":true,\"cmd\":\"a\\\"b\\\\c\\u0001\"}\n");
}

TEST_CASE("log: UTC times across month, year and leap-day boundaries") {
  auto time_of = [](std::int64_t ms) {
    return FormatLogLine(LogFormat::kText, ms, LogLevel::kInfo, "e", {}).substr(0, 24);
  };
  CHECK(time_of(0) == "1970-01-01T00:00:00.000Z");
  CHECK(time_of(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(time_of(951868799999) == "2000-02-29T23:59:59.999Z");
  CHECK(time_of(4107542399000) == "2100-02-28T23:59:59.000Z");
  CHECK(time_of(4107542400000) == "2100-03-01T00:00:00.000Z");  // 2100 is not a leap year
  CHECK(time_of(1798761599000) == "2026-12-31T23:59:59.000Z");
}

TEST_CASE("log: one line per event, whatever the values hold") {
  std::string line = FormatLogLine(LogFormat::kText, kTime, LogLevel::kInfo, "e",
                                   {{"v", "line1\nline2\r\n"}});
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("log: JSON lines stay valid UTF-8 whatever bytes a value holds") {
  auto json_of = [](std::string_view value) {
    std::string line = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kInfo, "e", {{"v", value}});
    const std::string key = "\"v\":\"";
    const size_t at = line.find(key) + key.size();
    return line.substr(at, line.rfind("\"}") - at);
  };
  CHECK(json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
  CHECK(json_of("a\xff" "b") == "a\\ufffdb");                  // never valid
  CHECK(json_of("\xc3") == "\\ufffd");                      // cut short
  CHECK(json_of("\xc0\xaf") == "\\ufffd\\ufffd");           // overlong '/'
  CHECK(json_of("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // a surrogate
  CHECK(json_of("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  CHECK(json_of("\x80x") == "\\ufffdx");                    // a lone continuation byte
}

TEST_CASE("log: text values with bytes that are not UTF-8 are quoted and replaced") {
  std::string line = FormatLogLine(LogFormat::kText, kTime, LogLevel::kInfo, "e",
                                   {{"ok", "caf\xc3\xa9"}, {"bad", "a\xff" "b"}});
  CHECK(line == "2026-11-29T00:00:00.123Z info e ok=caf\xc3\xa9 bad=\"a\\ufffdb\"\n");
}

TEST_CASE("log: controls that hide in valid UTF-8 are escaped, so a value cannot forge a line or a screen") {
  // A client's op echoed in control.refused could carry these: U+0085 (a
  // line break to many readers), U+009B (a terminal's CSI), U+2028 (a line
  // break to Python and JavaScript), U+202E (right-to-left override).
  const std::string value = "x\xc2\x85y\xc2\x9b" "2J\xe2\x80\xa8z\xe2\x80\xae";
  const std::string json = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kWarn, "e", {{"v", value}});
  CHECK(json.find("\"v\":\"x\\u0085y\\u009b2J\\u2028z\\u202e\"") != std::string::npos);
  const std::string text = FormatLogLine(LogFormat::kText, kTime, LogLevel::kWarn, "e", {{"v", value}});
  CHECK(text == "2026-11-29T00:00:00.123Z warn e v=\"x\\u0085y\\u009b2J\\u2028z\\u202e\"\n");
  for (const std::string& line : {json, text}) {
    CHECK(line.find("\xc2\x85") == std::string::npos);
    CHECK(line.find("\xc2\x9b") == std::string::npos);
    CHECK(line.find("\xe2\x80") == std::string::npos);
  }
  // Their neighbours are text, and stay as they are.
  CHECK(FormatLogLine(LogFormat::kText, kTime, LogLevel::kInfo, "e", {{"v", "\xc2\xa1\xe2\x80\xa7\xe2\x80\xb0"}}) ==
        "2026-11-29T00:00:00.123Z info e v=\xc2\xa1\xe2\x80\xa7\xe2\x80\xb0\n");
}

// Text from outside written into a line as it is (a hook's output): nothing
// left in it ends the line, starts an escape sequence or reorders text, and
// what is plain stays as it is.
TEST_CASE("log: untrusted text is escaped byte by byte where it could act on a reader") {
  CHECK(EscapeUntrustedText("plain text, caf\xc3\xa9 \xe2\x82\xac\ttab") == "plain text, caf\xc3\xa9 \xe2\x82\xac\ttab");
  CHECK(EscapeUntrustedText("a\\b") == "a\\\\b");
  CHECK(EscapeUntrustedText(std::string("\n\r\x1b[2J\x7f\0", 8)) == "\\x0a\\x0d\\x1b[2J\\x7f\\x00");
  // C1 controls (NEL, CSI), the line separator and a bidi override, written
  // as UTF-8; and bytes that are not UTF-8 at all (a raw CSI, a cut
  // sequence).
  CHECK(EscapeUntrustedText("\xc2\x85\xc2\x9b\xe2\x80\xa8\xe2\x80\xae") == "\\u0085\\u009b\\u2028\\u202e");
  CHECK(EscapeUntrustedText("\x9b" "1A \xe2\x82") == "\\x9b" "1A \\xe2\\x82");
}
