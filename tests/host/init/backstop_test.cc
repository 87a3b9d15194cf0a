// Backstop on a real event loop and a real timerfd: it fires at its
// deadline, not when cleared, again when set after firing, and its idle
// wait arms nothing.
#include "init/backstop.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using tazpod::init::Backstop;

namespace {

// Runs the loop until `done()` holds or `limit` passes; true when it held.
bool RunUntil(boost::asio::io_context& io, std::chrono::milliseconds limit, const std::function<bool()>& done) {
  const auto end = steady_clock::now() + limit;
  while (steady_clock::now() < end) {
    io.run_for(10ms);
    if (done()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("backstop: fires at its deadline, not before") {
  boost::asio::io_context io;
  steady_clock::time_point fired{};
  Backstop backstop(io, [&] { fired = steady_clock::now(); });
  backstop.Start();
  const auto set_at = steady_clock::now();
  backstop.Set(set_at + 150ms);
  REQUIRE(RunUntil(io, 5000ms, [&] { return fired != steady_clock::time_point{}; }));
  CHECK(fired - set_at >= 150ms);
}

TEST_CASE("backstop: a deadline already past fires at once") {
  boost::asio::io_context io;
  int fired = 0;
  Backstop backstop(io, [&] { ++fired; });
  backstop.Start();
  backstop.Set(steady_clock::now() - 1h);
  REQUIRE(RunUntil(io, 5000ms, [&] { return fired > 0; }));
  CHECK(fired == 1);
}

TEST_CASE("backstop: a deadline before the clock's epoch (the machine's boot) fires at once") {
  boost::asio::io_context io;
  int fired = 0;
  Backstop backstop(io, [&] { ++fired; });
  backstop.Start();
  backstop.Set(steady_clock::time_point{} - 1s);
  REQUIRE(RunUntil(io, 5000ms, [&] { return fired > 0; }));
  CHECK(fired == 1);
}

TEST_CASE("backstop: cleared, or never set, it does not fire") {
  boost::asio::io_context io;
  int fired = 0;
  Backstop cleared(io, [&] { ++fired; });
  Backstop unset(io, [&] { ++fired; });
  cleared.Start();
  unset.Start();
  cleared.Set(steady_clock::now() + 50ms);
  cleared.Clear();
  CHECK_FALSE(RunUntil(io, 400ms, [&] { return fired > 0; }));
  CHECK(fired == 0);
}

TEST_CASE("backstop: set again from its own expiry, it fires again") {
  boost::asio::io_context io;
  int fired = 0;
  Backstop* self = nullptr;
  Backstop backstop(io, [&] {
    if (++fired == 1) self->Set(steady_clock::now() + 50ms);
  });
  self = &backstop;
  backstop.Start();
  backstop.Set(steady_clock::now() + 50ms);
  REQUIRE(RunUntil(io, 5000ms, [&] { return fired == 2; }));
  // Not a third time: the second expiry set nothing.
  CHECK_FALSE(RunUntil(io, 300ms, [&] { return fired > 2; }));
}

TEST_CASE("backstop: a later Set replaces the deadline") {
  boost::asio::io_context io;
  int fired = 0;
  Backstop backstop(io, [&] { ++fired; });
  backstop.Start();
  backstop.Set(steady_clock::now() + 100ms);
  backstop.Set(steady_clock::now() + 10s);
  CHECK_FALSE(RunUntil(io, 500ms, [&] { return fired > 0; }));
  backstop.Set(steady_clock::now());
  CHECK(RunUntil(io, 5000ms, [&] { return fired == 1; }));
}
