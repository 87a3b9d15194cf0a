#include "init/signal_names.h"

#include <catch2/catch_test_macros.hpp>
#include <csignal>
#include <string>

using tazpod::init::ParseSignal;
using tazpod::init::SignalName;

TEST_CASE("signal names: parse names, short names and numbers") {
  CHECK(ParseSignal("SIGTERM") == SIGTERM);
  CHECK(ParseSignal("TERM") == SIGTERM);
  CHECK(ParseSignal("15") == SIGTERM);
  CHECK(ParseSignal("SIGWINCH") == SIGWINCH);
  CHECK_FALSE(ParseSignal("SIGNOPE").has_value());
  CHECK_FALSE(ParseSignal("0").has_value());
  CHECK_FALSE(ParseSignal("999").has_value());
  CHECK_FALSE(ParseSignal("").has_value());
}

TEST_CASE("signal names: real-time signals are numbers from SIGRTMIN; glibc's own two are refused") {
  CHECK(ParseSignal("31") == 31);
  CHECK_FALSE(ParseSignal("32").has_value());
  CHECK_FALSE(ParseSignal("33").has_value());
  CHECK(ParseSignal(std::to_string(SIGRTMIN)) == SIGRTMIN);
  CHECK(ParseSignal(std::to_string(SIGRTMAX)) == SIGRTMAX);
  CHECK_FALSE(ParseSignal(std::to_string(SIGRTMAX + 1)).has_value());
}

TEST_CASE("signal names: names round-trip") {
  for (int s = 1; s < 32; ++s) CHECK(ParseSignal(SignalName(s)) == s);
  CHECK(SignalName(SIGRTMIN + 1).rfind("SIG", 0) == 0);
}
