// KeyboardSignalsHeld: a key's signal during a request is consumed and
// counted, unless the caller ignores or blocks it.
#include <poll.h>
#include <signal.h>

#include <catch2/catch_test_macros.hpp>
#include <ctime>

#include "session/terminal_prompt.h"
#include "signal_disposition.h"

using tazpod::session::KeyboardSignalsHeld;
using tazpod::test::Disposition;

namespace {

bool Pending(int signal) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, signal) == 1;
}

// Takes `signal` if it is pending (it is blocked here), so no test leaves it behind.
void Drain(int signal) {
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal);
  const struct timespec now {};
  while (sigtimedwait(&one, nullptr, &now) > 0) {
  }
}

}  // namespace

TEST_CASE("keyboard signals held: a Ctrl+C during the request is consumed and counted") {
  Disposition dfl(SIGINT, SIG_DFL);
  KeyboardSignalsHeld held;
  CHECK_FALSE(held.Interrupted());
  REQUIRE(raise(SIGINT) == 0);  // held: not delivered, or the test would end here
  CHECK(held.Interrupted());
  CHECK_FALSE(Pending(SIGINT));
}

TEST_CASE("keyboard signals held: a signal the caller ignores is not an interruption") {
  Disposition ignored(SIGINT, SIG_IGN);
  KeyboardSignalsHeld held;
  REQUIRE(raise(SIGINT) == 0);
  CHECK_FALSE(held.Interrupted());
}

TEST_CASE("keyboard signals held: a signal the caller blocks stays pending for it") {
  Disposition dfl(SIGQUIT, SIG_DFL);
  sigset_t quit, saved;
  sigemptyset(&quit);
  sigaddset(&quit, SIGQUIT);
  REQUIRE(sigprocmask(SIG_BLOCK, &quit, &saved) == 0);
  {
    KeyboardSignalsHeld held;
    REQUIRE(raise(SIGQUIT) == 0);
    CHECK_FALSE(held.Interrupted());
  }
  CHECK(Pending(SIGQUIT));
  Drain(SIGQUIT);
  sigprocmask(SIG_SETMASK, &saved, nullptr);
}

TEST_CASE("keyboard signals held: its descriptor is readable while a key's signal waits, until TakeNew") {
  Disposition dfl(SIGTSTP, SIG_DFL);
  KeyboardSignalsHeld held;
  REQUIRE(held.fd() >= 0);
  struct pollfd p = {held.fd(), POLLIN, 0};
  CHECK(poll(&p, 1, 0) == 0);
  REQUIRE(raise(SIGTSTP) == 0);  // held: not delivered, or the test would stop here
  CHECK(poll(&p, 1, 0) == 1);
  CHECK(held.TakeNew());
  CHECK(poll(&p, 1, 0) == 0);
  CHECK_FALSE(held.TakeNew());  // nothing new
  CHECK(held.Interrupted());    // but it came
}

TEST_CASE("keyboard signals held: no descriptor when no key's signal is held") {
  Disposition int_ignored(SIGINT, SIG_IGN);
  Disposition quit_ignored(SIGQUIT, SIG_IGN);
  Disposition tstp_ignored(SIGTSTP, SIG_IGN);
  KeyboardSignalsHeld held;
  CHECK(held.fd() == -1);
  CHECK_FALSE(held.TakeNew());
}
