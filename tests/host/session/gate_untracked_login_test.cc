// A login whose passphrase is right but whose process PID 1's event loop
// cannot watch (its epoll refuses one more descriptor: out of memory, or
// fs.epoll.max_user_watches reached). No session may open that nothing
// would see end, the user must hear why, and the vault, unlocked for this
// login, must not stay open for nobody.
//
// The gate runs with a real control socket in a forked process, logging to
// a file; the vault is a test double whose unlock succeeds and, as it does,
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

// A locked vault whose unlock succeeds and, as it does, makes every
// further epoll watch in this process fail with ENOSPC.
class VaultThenNoWatches : public tazpod::testing::AcceptingVault {
 public:
  void Unlock(SecretBuffer passphrase, bool may_create, Done done) override {
    if (!tazpod::testing::DenyEpollAdd(ENOSPC)) _exit(10);
    AcceptingVault::Unlock(std::move(passphrase), may_create, std::move(done));
  }
};

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("gate: a login the event loop cannot watch is refused with the cause, and the vault locks again") {
  char dir[] = "/tmp/tazpod-gate-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string socket_path = std::string(dir) + "/control.sock";
  const std::string log_path = std::string(dir) + "/log";
  const pid_t server = fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    VaultThenNoWatches vault;
    tazpod::testing::ServeGate(socket_path, vault, log_path);
  }
  REQUIRE(tazpod::testing::WaitUntilListening(socket_path));

  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  const session::CallResult result =
      session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &passphrase, 10s);
  // The lock follows the refusal's reply on the same turn of the loop;
  // give the log a moment to hold it.
  std::string log;
  for (int i = 0; i < 200 && log.find("gate.lock") == std::string::npos; ++i) {
    usleep(10000);
    log = ReadFile(log_path);
  }
  kill(server, SIGKILL);
  int status = 0;
  waitpid(server, &status, 0);
  std::filesystem::remove_all(dir);

  INFO("call error: " << result.error << "\nlog:\n" << log);
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 10));  // the filter was in place
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
  CHECK(log.find("gate.lock reason=last_session_exit") != std::string::npos);
}
