// The gate on a kernel that gives no pidfds (pidfd_open refused, as under a
// seccomp profile older than Linux 5.3's pidfd_open, and no SO_PEERPIDFD,
// from Linux 6.5): sessions are tracked by pidfd, so no login can be let
// in, and the refusal must say why. It used to say "the login process is
// gone", to every login, which sent users looking for a dead process. With
// SO_PEERPIDFD the gate needs no pidfd_open: an old seccomp profile on a
// newer kernel does not stop logins.
//
// The gate runs with a real control socket in a forked process under a
// seccomp filter; the client is this process, outside the filter. The vault
// is a test double: the refusal comes before any vault work, and the double
// fails the test if that work is asked for.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/control_server.h"
#include "session/gate.h"
#include "tests/host/seccomp_deny.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;

namespace {

// A vault that is locked and must not be touched: any operation answers
// with an error the test would see in the reply.
class UntouchedVault : public session::GateVault {
 public:
  std::string State() const override { return "locked"; }
  void WhenIdle(std::function<void()> then) override { then(); }
  void Unlock(SecretBuffer, bool, Done done) override { done({false, false, "the vault was asked to unlock"}); }
  void Verify(SecretBuffer, Done done) override { done({false, false, "the vault was asked to verify"}); }
  void Lock(Done done) override { done({false, false, "the vault was asked to lock"}); }
  void ChangePassphrase(SecretBuffer, Done done) override { done({false, false, "the vault was asked to change"}); }
  int MountNamespace() const override { return -1; }
};

// Serves the gate on `socket_path` with pidfd_open failing with `error`,
// and SO_PEERPIDFD unknown unless `peer_pidfd`, pidfd_send_signal failing
// too if `no_send_signal`; never returns. Exit status 10 or 11: the filter
// or the socket failed.
[[noreturn]] void ServeGateWithout(const std::string& socket_path, int error, bool peer_pidfd, bool no_send_signal) {
  if (!tazpod::testing::DenyPidfdOpen(error)) _exit(10);
  if (!peer_pidfd && !tazpod::testing::DenyPeerPidfd()) _exit(10);
  if (no_send_signal && !tazpod::testing::DenySyscall(SYS_pidfd_send_signal, error)) _exit(10);
  UntouchedVault vault;
  tazpod::testing::ServeGate(socket_path, vault);
}

nlohmann::json LoginReply(int error, bool peer_pidfd = false, bool no_send_signal = false) {
  char dir_template[] = "/tmp/tazpod-gate-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string socket_path = std::string(dir_template) + "/run/control.sock";
  const pid_t server = fork();
  REQUIRE(server >= 0);
  if (server == 0) ServeGateWithout(socket_path, error, peer_pidfd, no_send_signal);

  REQUIRE(tazpod::testing::WaitUntilListening(socket_path));
  SecretBuffer passphrase;
  passphrase.Append("correct horse", 13);
  session::CallResult result = session::Call(socket_path, {{"v", 1}, {"op", "gate.login"}}, &passphrase, 10s);
  kill(server, SIGKILL);
  int status = 0;
  waitpid(server, &status, 0);
  std::filesystem::remove_all(dir_template);
  INFO("server exit: " << (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) << ", call error: "
                       << result.error);
  REQUIRE(result.delivered);
  return result.reply;
}

}  // namespace

TEST_CASE("gate without pidfd_open (seccomp EPERM): a login is refused, naming pidfd_open, not a process gone") {
  const nlohmann::json reply = LoginReply(EPERM);
  INFO(reply.dump());
  CHECK(reply.value("ok", true) == false);
  CHECK(reply.value("kind", "") == "refused");
  const std::string error = reply.value("error", "");
  CHECK(error.find("pidfd_open: Operation not permitted") != std::string::npos);
  CHECK(error.find("seccomp") != std::string::npos);
  CHECK(error.find("gone") == std::string::npos);
}

TEST_CASE("gate without pidfd_open (ENOSYS, before Linux 5.3): a login is refused, naming the kernel") {
  const nlohmann::json reply = LoginReply(ENOSYS);
  INFO(reply.dump());
  CHECK(reply.value("kind", "") == "refused");
  const std::string error = reply.value("error", "");
  CHECK(error.find("pidfd_open: Function not implemented") != std::string::npos);
  CHECK(error.find("Linux 5.3") != std::string::npos);
}

TEST_CASE("gate without pidfd_open but with SO_PEERPIDFD (Linux 6.5+): the login goes on") {
  if (!tazpod::testing::KernelGivesPeerPidfd()) SKIP("the kernel gives no SO_PEERPIDFD (before Linux 6.5)");
  const nlohmann::json reply = LoginReply(EPERM, true);
  INFO(reply.dump());
  // Past the naming of the process, to the vault (a double that refuses).
  CHECK(reply.value("kind", "") == "vault");
  CHECK(reply.value("error", "") == "the vault was asked to unlock");
}

TEST_CASE("gate under a seccomp profile older than pidfds, with SO_PEERPIDFD: refused, naming pidfd_send_signal") {
  if (!tazpod::testing::KernelGivesPeerPidfd()) SKIP("the kernel gives no SO_PEERPIDFD (before Linux 6.5)");
  // The session could be named but not signalled: a forced lock could not
  // hang it up.
  const nlohmann::json reply = LoginReply(EPERM, true, true);
  INFO(reply.dump());
  CHECK(reply.value("kind", "") == "refused");
  const std::string error = reply.value("error", "");
  CHECK(error.find("pidfd_send_signal: Operation not permitted") != std::string::npos);
  CHECK(error.find("seccomp") != std::string::npos);
}
