// AcceptRetry on a real event loop: it tries again after its delay, and a
// retry that throws is retried in turn instead of ending the accepting.
#include "common/accept_retry.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>
#include <new>

using namespace std::chrono_literals;
using tazpod::AcceptRetry;

TEST_CASE("accept retry: tries again after its delay") {
  boost::asio::io_context io;
  AcceptRetry retry(io, "test.accept_failed");
  int tries = 0;
  const auto start = std::chrono::steady_clock::now();
  retry.Failed("Too many open files", [&] { ++tries; });
  io.run_for(5s);
  CHECK(tries == 1);
  CHECK(std::chrono::steady_clock::now() - start >= AcceptRetry::kDelay);
}

TEST_CASE("accept retry: a retry that throws is retried, not dropped") {
  boost::asio::io_context io;
  AcceptRetry retry(io, "test.accept_failed");
  int tries = 0;
  retry.Failed("Too many open files", [&] {
    // The first two throw, as async_accept does when memory runs out.
    if (++tries <= 2) throw std::bad_alloc();
    io.stop();
  });
  io.run_for(5s);
  CHECK(tries == 3);
}

TEST_CASE("accept retry: cancelled, it does not try again") {
  boost::asio::io_context io;
  AcceptRetry retry(io, "test.accept_failed");
  int tries = 0;
  retry.Failed("Too many open files", [&] { ++tries; });
  retry.Cancel();
  io.run_for(300ms);
  CHECK(tries == 0);
}

// Health reads failing() (docs/health.md: /readyz is 503 meanwhile). A
// failure that was not accept's own (admitting a connection threw) must
// not outlast its retry: else the server would report accepting nothing
// until the next client came, which may be never.
TEST_CASE("accept retry: failing until the retry, and again only if that fails too") {
  boost::asio::io_context io;
  AcceptRetry retry(io, "test.accept_failed");
  retry.Failed("std::bad_alloc", [] {});  // the retry re-arms, and nothing fails
  CHECK(retry.failing());
  CHECK(retry.error() == "std::bad_alloc");
  io.run_for(300ms);
  CHECK_FALSE(retry.failing());
  CHECK(retry.error().empty());
  // A failure that lasts: the retry's accept fails again at once.
  io.restart();
  int tries = 0;
  std::function<void()> again = [&] {
    if (++tries < 3) retry.Failed("Too many open files", again);
  };
  retry.Failed("Too many open files", again);
  io.run_for(150ms);
  CHECK(tries == 1);
  CHECK(retry.failing());
  CHECK(retry.error() == "Too many open files");
  io.run_for(300ms);
  CHECK(tries == 3);
  CHECK_FALSE(retry.failing());
}
