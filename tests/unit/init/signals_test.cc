#include "init/signals.h"

#include <catch2/catch_test_macros.hpp>
#include <csignal>

using tazpod::init::RaisedAgainstInit;

TEST_CASE("signals: init's own write or kill is init's, whoever else sends the same") {
  const pid_t init = 1;
  CHECK(RaisedAgainstInit(SIGPIPE, SI_USER, init, init));
  CHECK(RaisedAgainstInit(SIGXFSZ, SI_USER, init, init));
  CHECK(RaisedAgainstInit(SIGUSR1, SI_TKILL, init, init));
  CHECK_FALSE(RaisedAgainstInit(SIGPIPE, SI_USER, 42, init));
  CHECK_FALSE(RaisedAgainstInit(SIGXFSZ, SI_USER, 42, init));
  // From outside the PID namespace (docker kill): no sender pid at all.
  CHECK_FALSE(RaisedAgainstInit(SIGUSR1, SI_USER, 0, init));
  CHECK_FALSE(RaisedAgainstInit(SIGXFSZ, SI_USER, 0, init));
}

TEST_CASE("signals: SIGXCPU from the kernel is init's CPU limit; sent by anyone, the child's") {
  CHECK(RaisedAgainstInit(SIGXCPU, SI_KERNEL, 0, 1));
  CHECK_FALSE(RaisedAgainstInit(SIGXCPU, SI_USER, 42, 1));
  CHECK_FALSE(RaisedAgainstInit(SIGXCPU, SI_USER, 0, 1));
  CHECK_FALSE(RaisedAgainstInit(SIGXCPU, SI_QUEUE, 42, 1));
  // The terminal's signals come from the kernel too, and are the child's.
  CHECK_FALSE(RaisedAgainstInit(SIGHUP, SI_KERNEL, 0, 1));
  CHECK_FALSE(RaisedAgainstInit(SIGWINCH, SI_KERNEL, 0, 1));
  CHECK_FALSE(RaisedAgainstInit(SIGINT, SI_KERNEL, 0, 1));
}
