// A login whose passphrase is right but whose process PID 1's event loop
// cannot watch (its epoll refuses one more descriptor: out of memory, or
// fs.epoll.max_user_watches reached). No session may open that nothing
// would see end, the user must hear why, and the vault, unlocked for this
// login, must not stay open for nobody; one the login found unlocked (by
// root's `tazpod vault unlock`) stays as it was.
//
// The gate runs with a real control socket in a forked process, logging to
// a file; the vault is a test double whose unlock (or check) succeeds and, as it does,
// makes every further epoll watch in that process fail with ENOSPC (a
// seccomp filter), so the refusal comes exactly where the gate registers
// the session.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/gate.h"
#include "tests/host/seccomp_deny.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;

namespace {

// A vault whose unlock succeeds and, as it does, makes every further
// epoll watch in this process fail with ENOSPC.
class VaultThenNoWatches : public tazpod::testing::AcceptingVault {
 public:
  using AcceptingVault::AcceptingVault;
  void Unlock(SecretBuffer passphrase, bool may_create, Done done) override {
    if (!tazpod::testing::DenyEpollAdd(ENOSPC)) _exit(10);
    AcceptingVault::Unlock(std::move(passphrase), may_create, std::move(done));
  }
  // The same for the check of a login's passphrase on an unlocked vault.
  void Verify(SecretBuffer passphrase, Done done) override {
    if (!tazpod::testing::DenyEpollAdd(ENOSPC)) _exit(10);
    AcceptingVault::Verify(std::move(passphrase), std::move(done));
  }
};

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

// Logs in to a gate over a VaultThenNoWatches in `state`, checks the
// refusal, and returns the gate's log. The gate logs a lock this refusal causes before the
// refusal's reply (lock_grace is 0), so the log read once the reply has
// come holds it.
std::string LogInUntracked(const std::string& state) {
  char dir[] = "/tmp/tazpod-gate-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string socket_path = std::string(dir) + "/control.sock";
  const std::string log_path = std::string(dir) + "/log";
  const pid_t server = fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    VaultThenNoWatches vault(state);
    tazpod::testing::ServeGate(socket_path, vault, log_path);
  }
  REQUIRE(tazpod::testing::WaitUntilListening(socket_path));

  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  const session::CallResult result = session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &passphrase, 10s);
  std::string log = ReadFile(log_path);
  kill(server, SIGKILL);
  int status = 0;
  waitpid(server, &status, 0);
  std::filesystem::remove_all(dir);
  INFO("call error: " << result.error << "\nlog:\n" << log);
  REQUIRE(!(WIFEXITED(status) && WEXITSTATUS(status) == 10));  // the filter was in place
  REQUIRE(result.delivered);
  CHECK(result.reply.value("ok", true) == false);
  CHECK(result.reply.value("kind", "") == "refused");
  const std::string error = result.reply.value("error", "");
  CHECK(error.find("cannot be tracked") != std::string::npos);
  CHECK(error.find("No space left on device") != std::string::npos);
  CHECK(error.find("gone") == std::string::npos);
  CHECK(log.find("error session.refused") != std::string::npos);
  CHECK(log.find("gate.refused reason=untracked during=login") != std::string::npos);
  CHECK(log.find("session.open") == std::string::npos);
  return log;
}

}  // namespace

TEST_CASE("gate: a login the event loop cannot watch is refused with the cause, and the vault locks again") {
  const std::string log = LogInUntracked("locked");
  INFO("log:\n" << log);
  CHECK(log.find("gate.lock reason=last_session_exit") != std::string::npos);
}

// The gate locks only what its logins opened: a vault root's `tazpod vault
// unlock` left open, with no session, stays open when a login that only
// checked its passphrase on it could not be tracked.
TEST_CASE("gate: an untracked login on a vault it did not open leaves the vault unlocked") {
  const std::string log = LogInUntracked("unlocked");
  INFO("log:\n" << log);
  CHECK(log.find("gate.lock") == std::string::npos);
}
