// AnswerKeysWhileWaiting: the first key is answered on the terminal once;
// a second one leaves or waits, as the command chose.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <string>

#include "session/keys_while_waiting.h"
#include "signal_disposition.h"
#include "tests/test_pipe.h"

using tazpod::session::AnswerKeysWhileWaiting;
using tazpod::session::KeyboardSignalsHeld;
using tazpod::session::SecondKey;
using tazpod::test::Disposition;

namespace {

// A pipe stands in for the terminal: what the answer writes can be read back.
struct FakeTerminal : tazpod::testing::TestPipe {
  FakeTerminal() : TestPipe(O_NONBLOCK) {}
  std::string Written() const { return tazpod::testing::ReadWhatWaits(read_end.get()); }
};

}  // namespace

TEST_CASE("keys while waiting: the first key is answered once, and the wait goes on") {
  Disposition dfl(SIGINT, SIG_DFL);  // held: neither ignored nor blocked
  FakeTerminal tty;
  KeyboardSignalsHeld held;
  const auto wake = AnswerKeysWhileWaiting(held, tty.write_end.get(), "waiting for PID 1", SecondKey::kLeaves);
  REQUIRE(wake.fd == held.fd());
  REQUIRE(wake.fd >= 0);
  CHECK(wake.answer());  // woken with no key: nothing said
  CHECK(tty.Written().empty());
  REQUIRE(raise(SIGINT) == 0);  // held: not delivered, or the test would end here
  CHECK(wake.answer());
  CHECK(tty.Written() == "waiting for PID 1\r\n");
  CHECK(wake.answer());  // no new key: still waiting, nothing said again
  CHECK(tty.Written().empty());
}

TEST_CASE("keys while waiting: a second key leaves when the command says it may") {
  Disposition dfl(SIGINT, SIG_DFL);  // held: neither ignored nor blocked
  FakeTerminal tty;
  KeyboardSignalsHeld held;
  const auto wake = AnswerKeysWhileWaiting(held, tty.write_end.get(), "first", SecondKey::kLeaves);
  REQUIRE(raise(SIGINT) == 0);
  CHECK(wake.answer());
  REQUIRE(raise(SIGINT) == 0);
  CHECK_FALSE(wake.answer());
  CHECK(tty.Written() == "first\r\n");
}

TEST_CASE("keys while waiting: a second key changes nothing when the answer must be waited for") {
  Disposition dfl(SIGINT, SIG_DFL);  // held: neither ignored nor blocked
  FakeTerminal tty;
  KeyboardSignalsHeld held;
  const auto wake = AnswerKeysWhileWaiting(held, tty.write_end.get(), "first", SecondKey::kWaits);
  for (int key = 0; key < 3; ++key) {
    REQUIRE(raise(SIGINT) == 0);
    CHECK(wake.answer());
  }
  CHECK(tty.Written() == "first\r\n");
  CHECK(held.Interrupted());
}
