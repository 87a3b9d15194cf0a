// For the unit tests of the keys' signals: a disposition set for a test's
// duration, so a test decides whether a key's signal is held, ignored or
// blocked, whatever the runner left.
#pragma once

#include <signal.h>

#include <catch2/catch_test_macros.hpp>

namespace tazpod::test {

// Sets `signal`'s disposition until destroyed, then restores the one before.
class Disposition {
 public:
  Disposition(int signal, void (*handler)(int)) : signal_(signal) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    REQUIRE(sigaction(signal_, &action, &saved_) == 0);
  }
  ~Disposition() { sigaction(signal_, &saved_, nullptr); }
  Disposition(const Disposition&) = delete;
  Disposition& operator=(const Disposition&) = delete;

 private:
  int signal_;
  struct sigaction saved_ {};
};

}  // namespace tazpod::test
