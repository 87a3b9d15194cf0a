#include "session/throttle.h"

#include <catch2/catch_test_macros.hpp>

using namespace std::chrono_literals;
using tazpod::session::Throttle;

TEST_CASE("throttle: no delay before any failure") {
  Throttle t(1000ms, 30000ms);
  CHECK(t.Delay() == 0ms);
  CHECK(t.consecutive_failures() == 0);
}

TEST_CASE("throttle: the delay doubles with each consecutive failure up to the cap") {
  Throttle t(1000ms, 30000ms);
  const std::chrono::milliseconds expected[] = {1000ms, 2000ms, 4000ms, 8000ms,
                                                16000ms, 30000ms, 30000ms};
  for (auto want : expected) {
    t.RecordFailure();
    CHECK(t.Delay() == want);
  }
}

TEST_CASE("throttle: a success resets the delay") {
  Throttle t(500ms, 10000ms);
  t.RecordFailure();
  t.RecordFailure();
  REQUIRE(t.Delay() == 1000ms);
  t.RecordSuccess();
  CHECK(t.Delay() == 0ms);
  t.RecordFailure();
  CHECK(t.Delay() == 500ms);
}

TEST_CASE("throttle: huge failure counts stay at the cap without overflow") {
  Throttle t(1000ms, 60000ms);
  for (int i = 0; i < 100000; ++i) t.RecordFailure();
  CHECK(t.Delay() == 60000ms);
  CHECK(t.consecutive_failures() == 100000);
}

TEST_CASE("throttle: a cap below the base is raised to the base") {
  Throttle t(2000ms, 100ms);
  t.RecordFailure();
  t.RecordFailure();
  CHECK(t.Delay() == 2000ms);
}
