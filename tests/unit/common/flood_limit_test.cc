#include "common/flood_limit.h"

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <optional>
#include <string>

using tazpod::FloodLimit;
using namespace std::chrono_literals;

TEST_CASE("flood limit: a burst per key and window, then a count of what was held back") {
  FloodLimit limit(3, 10s);
  const FloodLimit::Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) CHECK(limit.Admit("gate.refused", "1000", t0 + 1s) == std::optional<long long>(0));
  CHECK_FALSE(limit.Admit("gate.refused", "1000", t0 + 2s).has_value());
  CHECK_FALSE(limit.Admit("gate.refused", "1000", t0 + 9s).has_value());
  // Another uid's lines are not held back by the first one's flood.
  CHECK(limit.Admit("gate.refused", "1001", t0 + 9s) == std::optional<long long>(0));
  // The window ends 10 s after its first line: the next line says how many
  // were held back, and only that one.
  CHECK(limit.Admit("gate.refused", "1000", t0 + 11s) == std::optional<long long>(2));
  CHECK(limit.Admit("gate.refused", "1000", t0 + 11s) == std::optional<long long>(0));
}

TEST_CASE("flood limit: keys beyond the most followed share one, and ended windows make room") {
  FloodLimit limit(1, 10s, 3);
  const FloodLimit::Clock::time_point t0{};
  CHECK(limit.Admit("e", "a", t0) == std::optional<long long>(0));
  CHECK(limit.Admit("e", "b", t0) == std::optional<long long>(0));
  CHECK(limit.Admit("e", "c", t0) == std::optional<long long>(0));
  // Full: d and e share a window, so e is held back behind d.
  CHECK(limit.Admit("e", "d", t0) == std::optional<long long>(0));
  CHECK_FALSE(limit.Admit("e", "e", t0).has_value());
  CHECK_FALSE(limit.Admit("e", "a", t0).has_value());  // a is still followed, at its burst
  // After the window, b and c (nothing held back) make room for f; a keeps
  // its count until its next line says it.
  CHECK(limit.Admit("e", "f", t0 + 20s) == std::optional<long long>(0));
  CHECK(limit.Admit("e", "a", t0 + 20s) == std::optional<long long>(1));
  // Full again (a, f and the shared window): g's line is the shared
  // window's next, and says e's was held back.
  CHECK(limit.Admit("e", "g", t0 + 20s) == std::optional<long long>(1));
  CHECK_FALSE(limit.Admit("e", "h", t0 + 20s).has_value());
}

TEST_CASE("flood limit: what is still held back is taken once, by group and member") {
  FloodLimit limit(1, 10s, 2);
  const FloodLimit::Clock::time_point t0{};
  CHECK(limit.Admit("gate.refused", "1000", t0) == std::optional<long long>(0));
  CHECK_FALSE(limit.Admit("gate.refused", "1000", t0).has_value());
  CHECK_FALSE(limit.Admit("gate.refused", "1000", t0).has_value());
  CHECK(limit.Admit("control.refused", "1000", t0) == std::optional<long long>(0));
  // Full: a third key of one group goes to that group's shared key, never
  // to another group's.
  CHECK(limit.Admit("control.refused", "1001", t0) == std::optional<long long>(0));
  CHECK_FALSE(limit.Admit("control.refused", "1002", t0).has_value());
  std::string taken;
  limit.TakeHeld([&](const std::string& group, const std::string& member, long long count) {
    taken += group + " " + member + " " + std::to_string(count) + ";";
  });
  CHECK(taken == "control.refused * 1;gate.refused 1000 2;");
  taken.clear();
  limit.TakeHeld([&](const std::string&, const std::string&, long long) { taken = "again"; });
  CHECK(taken.empty());
}
