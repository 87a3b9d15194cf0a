// AcceptRetry on a real event loop: it tries again after its delay, and a
// retry that throws is retried in turn instead of ending the accepting.
#include "common/accept_retry.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
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
