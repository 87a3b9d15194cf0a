#include "vault/hook_output.h"

#include <limits.h>

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

using tazpod::vault::HookOutput;

namespace {

// What a HookOutput for `hook` wrote, one entry per write.
struct Written {
  explicit Written(const std::string& hook) : output(hook, [this](std::string_view text) { writes.emplace_back(text); }) {}
  std::string All() const {
    std::string all;
    for (const std::string& w : writes) all += w;
    return all;
  }
  std::vector<std::string> writes;
  HookOutput output;
};

}  // namespace

TEST_CASE("hook output: each line is prefixed with its hook, whole lines go out as they come") {
  Written w("/opt/hooks/fetch");
  w.output.Take("first line\nsecond ");
  REQUIRE(w.writes.size() == 1);
  CHECK(w.writes[0] == "tazpod-vault-helper: hook /opt/hooks/fetch: first line\n");
  w.output.Take("half\n\nno newline");
  REQUIRE(w.writes.size() == 2);
  CHECK(w.writes[1] ==
        "tazpod-vault-helper: hook /opt/hooks/fetch: second half\n"
        "tazpod-vault-helper: hook /opt/hooks/fetch: \n");
  w.output.End();
  REQUIRE(w.writes.size() == 3);
  CHECK(w.writes[2] == "tazpod-vault-helper: hook /opt/hooks/fetch: no newline\n");
  w.output.End();
  CHECK(w.writes.size() == 3);
}

// A hook's line must not pass for one of tazpod's events, nor move the
// cursor of a terminal that shows the log over earlier lines
// (EscapeUntrustedText, common/log.h; tested there in full).
TEST_CASE("hook output: what could end a line or drive a terminal is escaped, so no line passes for another") {
  Written w("h");
  w.output.Take("fake\r2026-12-06T03:00:00.000Z info gate.accepted pid=1\x1b[1A\xc2\x85\x9b\\\n");
  CHECK(w.All() ==
        "tazpod-vault-helper: hook h: fake\\x0d2026-12-06T03:00:00.000Z info gate.accepted pid=1\\x1b[1A\\u0085"
        "\\x9b\\\\\n");
}

TEST_CASE("hook output: a long line goes in prefixed pieces, and no write is longer than PIPE_BUF") {
  Written w("h");
  const std::string prefix = "tazpod-vault-helper: hook h: ";
  w.output.Take(std::string(HookOutput::kMaxPiece * 2 + 10, 'x') + "\n");
  CHECK(w.All() == prefix + std::string(HookOutput::kMaxPiece, 'x') + "\n" + prefix +
                       std::string(HookOutput::kMaxPiece, 'x') + "\n" + prefix + std::string(10, 'x') + "\n");

  // Many short lines are batched, a batch never over PIPE_BUF, never
  // cutting a line.
  Written many("h");
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "line " + std::to_string(i) + "\n";
  many.output.Take(input);
  CHECK(many.writes.size() > 1);
  CHECK(many.writes.size() < 100);
  for (const std::string& write : many.writes) {
    CHECK(write.size() <= PIPE_BUF);
    CHECK(write.back() == '\n');
  }
  CHECK(many.All().find(prefix + "line 999\n") != std::string::npos);

  // The worst line: the longest shown path and a piece of control bytes.
  Written worst(std::string(1000, '\x01'));
  worst.output.Take(std::string(HookOutput::kMaxPiece, '\x01') + "\n");
  REQUIRE(worst.writes.size() == 1);
  CHECK(worst.writes[0].size() <= PIPE_BUF);
  CHECK(worst.writes[0].find("...: ") != std::string::npos);
}
