// Refused logins are audit lines, and a login refused before any vault
// work (no passphrase, throttled) costs its sender nothing: a loop of them
// would write without bound to PID 1's log and audit file. Past a burst,
// such lines are held back (common/flood_limit.h), but a wrong passphrase,
// which the throttle already slows, is always logged: a flood must not
// hide a guess.
//
// The gate runs with a real control socket in a forked process, logging to
// a file; the vault is a test double that refuses every passphrase.
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

// A locked vault that takes no passphrase.
class RefusingVault : public session::GateVault {
 public:
  std::string State() const override { return "locked"; }
  void WhenIdle(std::function<void()> then) override { then(); }
  void Unlock(SecretBuffer, bool, Done done) override { done({false, true, "wrong passphrase"}); }
  void Verify(SecretBuffer, Done done) override { done({false, true, "wrong passphrase"}); }
  void Lock(Done done) override { done({false, false, "the vault was asked to lock"}); }
  void ChangePassphrase(SecretBuffer, Done done) override { done({false, false, "the vault was asked to change"}); }
  int MountNamespace() const override { return -1; }
};

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("gate: a flood of logins refused before any vault work logs a burst, and a guess is still logged") {
  char dir_template[] = "/tmp/tazpod-gate-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string socket_path = dir + "/control.sock";
  const std::string log_path = dir + "/log";
  const pid_t server = fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    RefusingVault vault;
    tazpod::testing::ServeGate(socket_path, vault, log_path);
  }
  REQUIRE(tazpod::testing::WaitUntilListening(socket_path));

  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    SecretBuffer empty;
    session::CallResult r = session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &empty, 10s);
    if (r.delivered && r.reply.value("error", "") == "no passphrase") ++refused;
  }
  SecretBuffer guess;
  guess.Append("a guess", 7);
  session::CallResult wrong = session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &guess, 10s);
  SecretBuffer again;
  again.Append("another", 7);
  session::CallResult throttled = session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &again, 10s);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  std::stringstream log;
  log << std::ifstream(log_path).rdbuf();
  std::filesystem::remove_all(dir);

  CHECK(refused == 300);
  REQUIRE(wrong.delivered);
  CHECK(wrong.reply.value("kind", "") == "wrong_passphrase");
  REQUIRE(throttled.delivered);
  CHECK(throttled.reply.value("kind", "") == "throttled");
  INFO(log.str().substr(0, 2000));
  CHECK(Count(log.str(), "reason=no_passphrase") == 100);
  CHECK(Count(log.str(), "reason=wrong_passphrase") == 1);
  // The throttled refusal shares the flooded key (gate.refused, this uid).
  CHECK(Count(log.str(), "reason=throttled") == 0);
}
