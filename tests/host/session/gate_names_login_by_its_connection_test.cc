// A login is the process that connected, as the kernel recorded it at
// connect() (SO_PEERPIDFD, Linux 6.5), not whatever process has that pid
// when the request is read. A connection outlives its maker when the
// socket is inherited or passed on: here the process that connected forks,
// exits and is reaped, its pid goes to an unrelated process (through
// ns_last_pid, in a PID namespace of the test's own), and the child sends
// the login with the right passphrase. Named by pid, the unrelated process
// was counted as the session, and would have kept the vault unlocked for
// as long as it lived; named by the connection, the login is refused as
// gone. The unrelated process has a terminal of its own, which the audit
// line must not name as the login's.
//
// The gate is real, with a real control socket; the vault is a test double
// that accepts any passphrase.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "common/secret_buffer.h"
#include "common/unique_fd.h"
#include "session/control_server.h"
#include "session/gate.h"
#include "session/protocol.h"
#include "tests/host/seccomp_deny.h"
#include "tests/host/session/serve_gate.h"

namespace session = tazpod::session;

namespace {

// In the process that inherited the connection: once `go` is readable,
// sends a login with a passphrase, and exits 0 if it is refused as gone,
// 1 if it is let in, 2 otherwise.
[[noreturn]] void SendLoginWhenTold(int connection, int go) {
  char byte = 0;
  if (read(go, &byte, 1) != 1) _exit(3);
  const std::string header = R"({"v":1,"op":"gate.login"})";
  const std::string secret = "correct horse";
  std::string message;
  unsigned char length[4];
  session::EncodeLength(static_cast<std::uint32_t>(header.size()), length);
  message.append(reinterpret_cast<char*>(length), 4).append(header);
  session::EncodeLength(static_cast<std::uint32_t>(secret.size()), length);
  message.append(reinterpret_cast<char*>(length), 4).append(secret);
  if (write(connection, message.data(), message.size()) != static_cast<ssize_t>(message.size())) _exit(4);
  std::string reply;
  char buf[512];
  for (ssize_t n; (n = read(connection, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<size_t>(n));
  if (reply.find(R"("kind":"gone")") != std::string::npos) _exit(0);
  _exit(reply.find(R"("ok":true)") != std::string::npos ? 1 : 2);
}

// In the process given the maker's pid: a controlling terminal of its own
// (a new session, a pty opened without O_NOCTTY), said on `ready` with its
// pid, then a wait to be killed.
[[noreturn]] void WaitWithATerminal(int ready) {
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || setsid() < 0) _exit(5);
  const char* name = ptsname(master);
  if (name == nullptr || open(name, O_RDWR | O_CLOEXEC) < 0) _exit(6);
  const pid_t self = getpid();
  if (write(ready, &self, sizeof self) != static_cast<ssize_t>(sizeof self)) _exit(7);
  for (;;) pause();
}

// The tty of the gate.refused line in the gate's log, or "" if none.
std::string RefusedTty(const std::string& log_path) {
  std::ifstream log(log_path);
  for (std::string line; std::getline(log, line);) {
    if (line.find(" gate.refused ") == std::string::npos) continue;
    const size_t at = line.find(" tty=");
    if (at == std::string::npos) return "";
    const size_t from = at + 5;
    return line.substr(from, line.find(' ', from) - from);
  }
  return "";
}

// Runs as PID 1 of a new PID namespace: returns 0 when the login was
// refused as gone, its audit line naming no terminal, and the process
// given the pid was left alone.
int HandedOnLogin() {
  alarm(60);  // PID 1 of the namespace: its end ends every process in it
  char dir[] = "/tmp/tazpod-gate-XXXXXX";
  if (mkdtemp(dir) == nullptr) return 20;
  const std::string socket_path = std::string(dir) + "/control.sock";
  const std::string log_path = std::string(dir) + "/gate.log";
  const pid_t server = fork();
  if (server < 0) return 21;
  if (server == 0) {
    tazpod::testing::AcceptingVault vault;
    tazpod::testing::ServeGate(socket_path, vault, log_path);
  }
  if (!tazpod::testing::WaitUntilListening(socket_path)) return 32;

  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return 22;
  const pid_t maker = fork();
  if (maker < 0) return 23;
  if (maker == 0) {
    const int connection = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    if (connection < 0 || connect(connection, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(1);
    const pid_t heir = fork();
    if (heir < 0) _exit(2);
    if (heir == 0) SendLoginWhenTold(connection, go[0]);
    _exit(0);
  }
  int status = 0;
  if (waitpid(maker, &status, 0) != maker || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 24;
  close(go[0]);

  // The maker's pid, to a process that never asked for anything.
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return 35;
  pid_t given = -1;
  for (int attempt = 0; attempt < 20 && given != maker; ++attempt) {
    const int last = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (last < 0) return 25;
    const std::string previous = std::to_string(maker - 1);
    const bool set = write(last, previous.data(), previous.size()) == static_cast<ssize_t>(previous.size());
    close(last);
    if (!set) return 26;
    given = fork();
    if (given < 0) return 27;
    if (given == 0) WaitWithATerminal(ready[1]);
    if (given != maker) {
      kill(given, SIGKILL);
      waitpid(given, nullptr, 0);  // or the wait for the heir below would take it
    }
  }
  close(ready[1]);  // an early exit of `given` then ends the read below
  if (given != maker) return 28;
  // Processes of failed attempts may have said so before they were killed.
  for (pid_t said = 0; said != given;) {
    if (read(ready[0], &said, sizeof said) != static_cast<ssize_t>(sizeof said)) return 36;
  }

  if (write(go[1], "x", 1) != 1) return 29;
  // The heir is an orphan, reparented to this process (PID 1 here).
  int result = 30;
  for (pid_t pid; (pid = wait(&status)) > 0;) {
    if (WIFEXITED(status) && pid != given && pid != server) result = WEXITSTATUS(status);
    if (pid != given && pid != server) break;
  }
  const bool given_alive = kill(given, 0) == 0;
  kill(given, SIGKILL);
  kill(server, SIGKILL);
  while (wait(nullptr) > 0) {
  }
  const std::string tty = RefusedTty(log_path);
  std::filesystem::remove_all(dir);
  if (!given_alive) return 31;
  if (result == 0 && tty != "unknown") return tty.rfind("pts/", 0) == 0 ? 33 : 34;
  return result;
}

}  // namespace

TEST_CASE("gate: a login sent on a connection whose maker is gone is not counted for the process given its pid") {
  if (!tazpod::testing::KernelGivesPeerPidfd()) SKIP("the kernel gives no SO_PEERPIDFD (before Linux 6.5): a login is named by pid");
  const pid_t outer = fork();
  REQUIRE(outer >= 0);
  if (outer == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(40);
    const pid_t init = fork();  // PID 1 of the new namespace
    if (init < 0) _exit(41);
    if (init == 0) {
      // The namespace's own /proc, where the gate reads its callers' pids.
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        _exit(43);
      _exit(HandedOnLogin());
    }
    int status = 0;
    if (waitpid(init, &status, 0) != init) _exit(42);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  int status = 0;
  REQUIRE(waitpid(outer, &status, 0) == outer);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  INFO("0: refused as gone; 1: the login was let in, counted for the process given its pid; 2: another answer; "
       "33: refused, but its audit line names the terminal of the process given its pid; 34: no tty=unknown there");
  CHECK(code == 0);
}
