#include "vault/hook_output.h"

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

using tazpod::vault::EscapeControlBytes;
using tazpod::vault::HookOutput;

namespace {

// The lines a HookOutput for `hook` passed on, each as one write.
struct Written {
  explicit Written(const std::string& hook) : output(hook, [this](std::string_view line) { lines.emplace_back(line); }) {}
  std::vector<std::string> lines;
  HookOutput output;
};

}  // namespace

TEST_CASE("hook output: each line is prefixed with its hook, whole lines only until the end") {
  Written w("/opt/hooks/fetch");
  w.output.Take("first line\nsecond ");
  REQUIRE(w.lines.size() == 1);
  CHECK(w.lines[0] == "tazpod-vault-helper: hook /opt/hooks/fetch: first line\n");
  w.output.Take("half\n\nno newline");
  REQUIRE(w.lines.size() == 3);
  CHECK(w.lines[1] == "tazpod-vault-helper: hook /opt/hooks/fetch: second half\n");
  CHECK(w.lines[2] == "tazpod-vault-helper: hook /opt/hooks/fetch: \n");
  w.output.End();
  REQUIRE(w.lines.size() == 4);
  CHECK(w.lines[3] == "tazpod-vault-helper: hook /opt/hooks/fetch: no newline\n");
  w.output.End();
  CHECK(w.lines.size() == 4);
}

// A hook's line must not pass for one of tazpod's events, nor move the
// cursor of a terminal that shows the log over earlier lines.
TEST_CASE("hook output: control bytes and backslashes are escaped, so no line passes for another") {
  Written w("h");
  w.output.Take("fake\r2026-12-06T03:00:00.000Z info gate.accepted pid=1\x1b[1A\x7f\\x0a\ttab\n");
  REQUIRE(w.lines.size() == 1);
  CHECK(w.lines[0] ==
        "tazpod-vault-helper: hook h: fake\\x0d2026-12-06T03:00:00.000Z info gate.accepted pid=1\\x1b[1A\\x7f\\\\x0a"
        "\ttab\n");
  CHECK(EscapeControlBytes(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(EscapeControlBytes("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes as it is
}

TEST_CASE("hook output: a long line goes in pieces, each prefixed, with no empty line after the last") {
  Written w("h");
  const std::string prefix = "tazpod-vault-helper: hook h: ";
  w.output.Take(std::string(HookOutput::kMaxPiece * 2 + 10, 'x') + "\n");
  REQUIRE(w.lines.size() == 3);
  CHECK(w.lines[0] == prefix + std::string(HookOutput::kMaxPiece, 'x') + "\n");
  CHECK(w.lines[1] == w.lines[0]);
  CHECK(w.lines[2] == prefix + std::string(10, 'x') + "\n");

  // Cut exactly at the limit, the newline coming in the next read.
  Written exact("h");
  exact.output.Take(std::string(HookOutput::kMaxPiece, 'y'));
  exact.output.Take("\nnext\n");
  REQUIRE(exact.lines.size() == 2);
  CHECK(exact.lines[0] == prefix + std::string(HookOutput::kMaxPiece, 'y') + "\n");
  CHECK(exact.lines[1] == prefix + "next\n");
}
