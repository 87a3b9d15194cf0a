// A lock of the gate's that fails (its helper could not start: fork's
// EAGAIN at the container's pids limit, say) may leave the vault unlocked
// with no session open, and no session left to end and ask again. The gate
// asks again itself, later each time, until a lock succeeds or a session
// opens.
//
// The gate runs with a real control socket in a forked process, logging to
// a file, with short retry delays; the vault is a test double whose lock
// fails a given number of times.
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/gate.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;
using tazpod::testing::CountOf;

namespace {

constexpr const char* kLockError = "cannot start the vault helper: Resource temporarily unavailable";

// An unlocked vault whose lock fails `failures` times (-1: always), each
// leaving it failed, then succeeds. Its unlock always succeeds.
class LockFailsTimes : public tazpod::testing::AcceptingVault {
 public:
  explicit LockFailsTimes(int failures) : AcceptingVault("unlocked"), failures_(failures) {}
  void Lock(Done done) override {
    if (failures_ == 0) return AcceptingVault::Lock(std::move(done));
    if (failures_ > 0) --failures_;
    state_ = "failed";
    done({false, false, kLockError});
  }

 private:
  int failures_;
};

// The gate over LockFailsTimes(failures), retrying after 50 ms, then 100
// ms at most, in a process of its own.
class RetryingGate : public tazpod::testing::GateProcess {
 public:
  explicit RetryingGate(int failures)
      : GateProcess([failures](const std::string& socket_path, const std::string& log_path) {
          LockFailsTimes vault(failures);
          session::GateSettings settings;
          settings.lock_retry_base = 50ms;
          settings.lock_retry_cap = 100ms;
          tazpod::testing::ServeGate(socket_path, vault, log_path, settings);
        }) {}
  std::string VaultState() { return Call({{"v", 1}, {"op", "gate.status"}}).reply.value("vault", ""); }
  // Waits up to 10 s for `done`.
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      usleep(10000);
    }
    return false;
  }
};

}  // namespace

TEST_CASE("gate: a lock that fails is tried again, later each time, until it succeeds") {
  RetryingGate gate(3);
  // `tazpod lock` with no session open: the caller hears the first failure.
  const session::CallResult lock = gate.Call({{"v", 1}, {"op", "gate.lock"}});
  REQUIRE(lock.delivered);
  CHECK(lock.reply.value("ok", true) == false);
  CHECK(lock.reply.value("kind", "") == "vault");
  CHECK(lock.reply.value("error", "") == kLockError);

  CHECK(RetryingGate::WaitFor([&] { return gate.VaultState() == "locked"; }));
  usleep(500000);  // five of the longest delays: no retry follows a success
  const std::string log = gate.Log();
  INFO(log);
  CHECK(CountOf(log, "gate.lock reason=requested") == 1);
  CHECK(CountOf(log, "gate.lock reason=retry") == 3);
  CHECK(CountOf(log, "gate.lock.failed") == 3);
  // Doubled, then capped.
  CHECK(CountOf(log, "retry_in_ms=50\n") == 1);
  CHECK(CountOf(log, "retry_in_ms=100\n") == 2);
}

TEST_CASE("gate: a session that opens stops the lock's retries") {
  RetryingGate gate(-1);
  const session::CallResult lock = gate.Call({{"v", 1}, {"op", "gate.lock"}});
  REQUIRE(lock.delivered);
  CHECK(lock.reply.value("kind", "") == "vault");
  REQUIRE(RetryingGate::WaitFor([&] { return CountOf(gate.Log(), "gate.lock reason=retry") >= 2; }));

  // This process logs in: the failed vault is unlocked for it, and its
  // session stays open as long as the test runs.
  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  const session::CallResult login = gate.Call({{"v", 1}, {"op", "gate.login"}}, &passphrase);
  REQUIRE(login.delivered);
  INFO(login.reply.dump() << "\n" << gate.Log());
  REQUIRE(login.reply.value("ok", false));
  // Every lock so far was logged before the reply; none follows it.
  const int locks = CountOf(gate.Log(), "gate.lock reason=");
  usleep(500000);
  CHECK(CountOf(gate.Log(), "gate.lock reason=") == locks);
  CHECK(gate.VaultState() == "unlocked");
}

namespace {

// A locked vault whose unlock fails part-way, as when its helper is killed
// once the vault is mounted: the state is then `failed`, the vault perhaps
// open. Its lock succeeds.
class UnlockFailsPartWay : public tazpod::testing::AcceptingVault {
 public:
  void Unlock(SecretBuffer, bool, Done done) override {
    state_ = "failed";
    done({false, false, "the vault helper was killed by SIGKILL, not by tazpod"});
  }
};

}  // namespace

TEST_CASE("gate: a login whose unlock fails part-way, with no session open, has the vault locked") {
  tazpod::testing::GateProcess gate([](const std::string& socket_path, const std::string& log_path) {
    UnlockFailsPartWay vault;
    tazpod::testing::ServeGate(socket_path, vault, log_path);
  });
  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  const session::CallResult login = gate.Call({{"v", 1}, {"op", "gate.login"}}, &passphrase);
  REQUIRE(login.delivered);
  INFO(login.reply.dump() << "\n" << gate.Log());
  CHECK(login.reply.value("ok", true) == false);
  CHECK(login.reply.value("kind", "") == "vault");
  // The lock runs on the same turn of the loop as the refusal.
  CHECK(RetryingGate::WaitFor([&] {
    return gate.Call({{"v", 1}, {"op", "gate.status"}}).reply.value("vault", "") == "locked";
  }));
  CHECK(CountOf(gate.Log(), "gate.lock reason=unlock_failed") == 1);
}
