// A lock of the gate's that fails (its helper could not start: fork's
// EAGAIN at the container's pids limit, say) may leave the vault unlocked
// with no session open, and no session left to end and ask again. The gate
// asks again itself, later each time, until a lock succeeds or a session
// opens.
//
// The gate runs with a real control socket in a forked process, logging to
// a file, with short retry delays; the vault is a test double whose lock
// fails a given number of times.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/gate.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;

namespace {

constexpr const char* kLockError = "cannot start the vault helper: Resource temporarily unavailable";

// An unlocked vault whose lock fails `failures` times (-1: always), each
// leaving it failed, then succeeds. Its unlock always succeeds.
class LockFailsTimes : public session::GateVault {
 public:
  explicit LockFailsTimes(int failures) : failures_(failures) {}
  std::string State() const override { return state_; }
  void WhenIdle(std::function<void()> then) override { then(); }
  void Unlock(SecretBuffer, bool, Done done) override {
    state_ = "unlocked";
    done({true, false, ""});
  }
  void Verify(SecretBuffer, Done done) override { done({true, false, ""}); }
  void Lock(Done done) override {
    if (failures_ != 0) {
      if (failures_ > 0) --failures_;
      state_ = "failed";
      return done({false, false, kLockError});
    }
    state_ = "locked";
    done({true, false, ""});
  }
  void ChangePassphrase(SecretBuffer, Done done) override { done({false, false, "the vault was asked to change"}); }
  int MountNamespace() const override { return -1; }

 private:
  int failures_;
  std::string state_ = "unlocked";
};

// The gate over LockFailsTimes(failures), retrying after 50 ms, then 100
// ms at most, in a process of its own; its directory goes at the end.
class RetryingGate {
 public:
  explicit RetryingGate(int failures) {
    REQUIRE(mkdtemp(dir_) != nullptr);
    socket_ = std::string(dir_) + "/control.sock";
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      LockFailsTimes vault(failures);
      session::GateSettings settings;
      settings.lock_retry_base = 50ms;
      settings.lock_retry_cap = 100ms;
      tazpod::testing::ServeGate(socket_, vault, std::string(dir_) + "/log", settings);
    }
    REQUIRE(tazpod::testing::WaitUntilListening(socket_));
  }
  ~RetryingGate() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  session::CallResult Call(const nlohmann::json& header, SecretBuffer* secret = nullptr) {
    return session::Call(socket_, header, secret, 10s);
  }
  std::string VaultState() { return Call({{"v", 1}, {"op", "gate.status"}}).reply.value("vault", ""); }
  std::string Log() const {
    std::stringstream text;
    text << std::ifstream(std::string(dir_) + "/log").rdbuf();
    return text.str();
  }
  // Waits up to 10 s for `done`.
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      usleep(10000);
    }
    return false;
  }

 private:
  char dir_[32] = "/tmp/tazpod-gate-XXXXXX";
  std::string socket_;
  pid_t pid_ = -1;
};

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

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
  CHECK(Count(log, "gate.lock reason=requested") == 1);
  CHECK(Count(log, "gate.lock reason=retry") == 3);
  CHECK(Count(log, "gate.lock.failed") == 3);
  // Doubled, then capped.
  CHECK(Count(log, "retry_in_ms=50\n") == 1);
  CHECK(Count(log, "retry_in_ms=100\n") == 2);
}

TEST_CASE("gate: a session that opens stops the lock's retries") {
  RetryingGate gate(-1);
  const session::CallResult lock = gate.Call({{"v", 1}, {"op", "gate.lock"}});
  REQUIRE(lock.delivered);
  CHECK(lock.reply.value("kind", "") == "vault");
  REQUIRE(RetryingGate::WaitFor([&] { return Count(gate.Log(), "gate.lock reason=retry") >= 2; }));

  // This process logs in: the failed vault is unlocked for it, and its
  // session stays open as long as the test runs.
  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  const session::CallResult login = gate.Call({{"v", 1}, {"op", "gate.login"}}, &passphrase);
  REQUIRE(login.delivered);
  INFO(login.reply.dump() << "\n" << gate.Log());
  REQUIRE(login.reply.value("ok", false));
  // Every lock so far was logged before the reply; none follows it.
  const int locks = Count(gate.Log(), "gate.lock reason=");
  usleep(500000);
  CHECK(Count(gate.Log(), "gate.lock reason=") == locks);
  CHECK(gate.VaultState() == "unlocked");
}
