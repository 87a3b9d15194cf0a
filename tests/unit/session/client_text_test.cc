#include "session/client_text.h"

#include <catch2/catch_test_macros.hpp>

using tazpod::session::SecondsText;
using tazpod::session::WithNextAttempt;

TEST_CASE("client_text: a wait is said in whole seconds, rounded up") {
  CHECK(SecondsText(0) == "0 s");
  CHECK(SecondsText(1) == "1 s");
  CHECK(SecondsText(1000) == "1 s");
  CHECK(SecondsText(1001) == "2 s");
  CHECK(SecondsText(29500) == "30 s");
  CHECK(SecondsText(-5) == "0 s");
}

TEST_CASE("client_text: the next attempt's wait follows the refusal as a sentence of its own") {
  CHECK(WithNextAttempt("tazpod login: too many wrong passphrases: wait before trying again", 4000) ==
        "tazpod login: too many wrong passphrases: wait before trying again. Next attempt in 4 s.");
  CHECK(WithNextAttempt("Wrong passphrase.", 2500) == "Wrong passphrase. Next attempt in 3 s.");
  CHECK(WithNextAttempt("Wrong passphrase; nothing changed.", 1000) == "Wrong passphrase; nothing changed. Next attempt in 1 s.");
  CHECK(WithNextAttempt("tazpod login: refused", 0) == "tazpod login: refused");
}
