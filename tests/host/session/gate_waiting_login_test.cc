// A login that was waiting for the vault when a lock was asked for, or the
// container began to stop: the gate with a real control socket and real
// client processes (sessions are tracked by their pidfds), on a vault
// double whose operations the test holds and releases, so that the order
// of events is staged, not hoped for.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/control_server.h"
#include "session/gate.h"

using namespace std::chrono_literals;
using tazpod::SecretBuffer;
namespace session = tazpod::session;

namespace {

// An unlocked vault whose passphrase changes (and, when asked, verifies) the
// test holds: while one is held the vault is busy, and what waits for it
// runs when it is released.
class HeldVault : public session::GateVault {
 public:
  std::string State() const override { return state_; }
  void WhenIdle(std::function<void()> then) override {
    waiting_.push_back(std::move(then));
    RunWaiting();
  }
  void Unlock(SecretBuffer, bool, Done done) override {
    ++unlocks;
    state_ = "unlocked";
    done({true, false, ""});
  }
  void Verify(SecretBuffer, Done done) override {
    if (hold_verify) held_ = std::move(done);
    else done({true, false, ""});
  }
  void Lock(Done done) override {
    state_ = "locked";
    done({true, false, ""});
  }
  void ChangePassphrase(SecretBuffer, Done done) override { held_ = std::move(done); }
  int MountNamespace() const override { return -1; }

  bool hold_verify = false;  // a login's verify is held too
  int unlocks = 0;
  void Lock() { state_ = "locked"; }
  size_t waiting() const { return waiting_.size(); }
  bool holding() const { return static_cast<bool>(held_); }
  void Release() {
    Done done = std::move(held_);
    held_ = nullptr;
    done({true, false, ""});
    RunWaiting();
  }

 private:
  void RunWaiting() {
    while (!held_ && !waiting_.empty()) {
      std::function<void()> next = std::move(waiting_.front());
      waiting_.pop_front();
      next();
    }
  }
  std::string state_ = "unlocked";
  std::deque<std::function<void()>> waiting_;
  Done held_;
};

// A client process: sends `header` (with `secret`), then exits 0 if the
// reply is ok, 3 if it was refused for open sessions, 4 for "refused", 2
// for anything else. With `stay`, an accepted one then waits to be killed,
// SIGHUP blocked (the test sees it pending), as a shell busy with a job
// would be for a while.
pid_t Client(const std::string& socket_path, const nlohmann::json& header, const std::string& secret,
             bool stay = false) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  alarm(60);  // a failed test must not leave it behind
  if (stay) {
    sigset_t hangup;
    sigemptyset(&hangup);
    sigaddset(&hangup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hangup, nullptr);
  }
  SecretBuffer buffer;
  buffer.Append(secret.data(), secret.size());
  session::CallResult result = session::Call(socket_path, header, secret.empty() ? nullptr : &buffer, 30s);
  if (!result.delivered) _exit(5);
  if (result.reply.value("ok", false)) {
    if (stay)
      for (;;) pause();
    _exit(0);
  }
  const std::string kind = result.reply.value("kind", "");
  _exit(kind == "sessions" ? 3 : kind == "refused" ? 4 : 2);
}

// The old passphrase, a NUL byte, the new one: as `tazpod passwd` sends them.
std::string ChangeOfPassphrase() { return std::string("correct horse\0battery staple", 28); }

// Runs the loop until `condition` holds (or 20 s pass).
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(10ms);
  }
  return true;
}

// True once `pid` has SIGHUP pending (blocked, not yet taken): sent to the
// process, so in its shared pending set.
bool HangupPending(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("ShdPnd:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGHUP - 1)) & 1;
  return false;
}

// The gate, served on a control socket in a directory of its own, over a
// HeldVault; the test runs the loop.
struct ServedGate {
  explicit ServedGate(std::chrono::milliseconds hangup_grace) {
    REQUIRE(mkdtemp(dir) != nullptr);
    socket_path = std::string(dir) + "/run/control.sock";
    session::GateSettings settings;
    settings.user = "root";
    settings.mountpoint = std::string(dir) + "/secrets";
    settings.hangup_grace = hangup_grace;
    gate = std::make_unique<session::Gate>(io, vault, settings);
    control = std::make_unique<session::ControlServer>(io, socket_path, 0, 0);
    REQUIRE(control->Listen().empty());
    gate->Register(*control);
  }
  // Clients still running (a failed REQUIRE left them) are killed and reaped.
  ~ServedGate() {
    for (pid_t pid : clients) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir);
  }

  pid_t Start(const nlohmann::json& header, const std::string& secret, bool stay = false) {
    const pid_t pid = Client(socket_path, header, secret, stay);
    REQUIRE(pid > 0);
    clients.push_back(pid);
    return pid;
  }

  // The client's exit code once it has exited, running the loop meanwhile;
  // -1 if it has not within 20 s (it is then killed by the destructor).
  int ExitCodeOf(pid_t pid) {
    int status = 0;
    if (!RunUntil(io, [&] { return waitpid(pid, &status, WNOHANG) == pid; })) return -1;
    std::erase(clients, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  char dir[64] = "/tmp/tazpod-gate-XXXXXX";
  std::string socket_path;
  boost::asio::io_context io;
  HeldVault vault;
  std::unique_ptr<session::Gate> gate;
  std::unique_ptr<session::ControlServer> control;
  std::vector<pid_t> clients;
};

}  // namespace

// The forced lock hangs the sessions up; a login that was waiting behind
// another operation must not slip in between the last session's end and
// the lock: it would get a shell to be locked under, or make the forced
// lock fail with "a new session opened meanwhile" (exit 3).
TEST_CASE("gate: a login waiting for the vault does not slip in before a forced lock") {
  // The session holds SIGHUP off: this long until its SIGKILL, time enough
  // to stage the rest on a loaded machine.
  ServedGate served(5s);
  const nlohmann::json login = {{"v", 1}, {"op", "gate.login"}};

  // A session that will take the hang-up's whole grace to end.
  const pid_t shell = served.Start(login, "correct horse", true);
  REQUIRE(RunUntil(served.io, [&] { return served.gate->sessions() == 1; }));
  // `tazpod lock --force`: the session is hung up, the lock waits for it.
  const pid_t lock = served.Start({{"v", 1}, {"op", "gate.lock"}, {"force", true}}, "");
  REQUIRE(RunUntil(served.io, [&] { return HangupPending(shell); }));
  // Meanwhile the vault is busy (a passphrase change), and a login waits.
  const pid_t passwd = served.Start({{"v", 1}, {"op", "gate.passwd"}}, ChangeOfPassphrase());
  REQUIRE(RunUntil(served.io, [&] { return served.vault.holding(); }));
  const pid_t late = served.Start(login, "correct horse");
  // Queued behind the passphrase change, while the session still holds
  // the forced lock off.
  REQUIRE(RunUntil(served.io, [&] { return served.vault.waiting() == 1; }));
  REQUIRE(served.gate->sessions() == 1);
  // The session is killed after the grace; then the vault is free again.
  const int shell_code = served.ExitCodeOf(shell);
  REQUIRE(RunUntil(served.io, [&] { return served.gate->sessions() == 0; }));
  served.vault.Release();

  const int late_code = served.ExitCodeOf(late);
  const int lock_code = served.ExitCodeOf(lock);
  const int passwd_code = served.ExitCodeOf(passwd);
  CHECK(shell_code == 128 + SIGKILL);
  CHECK(passwd_code == 0);
  CHECK(late_code == 4);  // refused: the vault is being locked
  CHECK(lock_code == 0);
  CHECK(served.vault.State() == "locked");
  CHECK(served.gate->sessions() == 0);
}

// A forced lock hangs the sessions up and kills, hangup_grace later, those
// that stay. Asked again meanwhile (by root, or by the user, whom the socket
// lets in), it must keep that first deadline: each request used to set the
// timer anew, so a loop of them put the SIGKILL off for as long as it went
// on, and every login with it (refused while a lock waits).
TEST_CASE("gate: forced locks asked again and again do not put off the hang-up's SIGKILL") {
  ServedGate served(1s);
  const pid_t shell = served.Start({{"v", 1}, {"op", "gate.login"}}, "correct horse", true);
  REQUIRE(RunUntil(served.io, [&] { return served.gate->sessions() == 1; }));
  // A forced lock every 300 ms, for up to ten times the grace.
  std::vector<pid_t> locks;
  int status = 0;
  bool ended = false;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!ended && std::chrono::steady_clock::now() < give_up) {
    locks.push_back(served.Start({{"v", 1}, {"op", "gate.lock"}, {"force", true}}, ""));
    const auto next = std::chrono::steady_clock::now() + 300ms;
    while (!ended && std::chrono::steady_clock::now() < next) {
      served.io.restart();
      served.io.run_for(10ms);
      ended = waitpid(shell, &status, WNOHANG) == shell;
    }
  }
  REQUIRE(ended);  // killed while the requests kept coming
  std::erase(served.clients, shell);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  for (pid_t lock : locks) CHECK(served.ExitCodeOf(lock) == 0);
  CHECK(served.vault.State() == "locked");
}

// `docker stop` while a login waits behind another operation: the shutdown
// locks the vault next, so a shell let in now would be ended at once.
TEST_CASE("gate: a login waiting for the vault is refused once the container stops") {
  ServedGate served(3s);

  const pid_t passwd = served.Start({{"v", 1}, {"op", "gate.passwd"}}, ChangeOfPassphrase());
  REQUIRE(RunUntil(served.io, [&] { return served.vault.holding(); }));
  const pid_t waiting = served.Start({{"v", 1}, {"op", "gate.login"}}, "correct horse");
  REQUIRE(RunUntil(served.io, [&] { return served.vault.waiting() == 1; }));
  served.gate->StopAdmitting();
  served.vault.Release();

  const int waiting_code = served.ExitCodeOf(waiting);
  const int passwd_code = served.ExitCodeOf(passwd);
  CHECK(passwd_code == 0);
  CHECK(waiting_code == 4);  // refused: the container is stopping
  CHECK(served.gate->sessions() == 0);
}

// `docker stop` while a login's own verify runs: the passphrase is right,
// but the container is stopping by the time it is known.
TEST_CASE("gate: a login whose verify ends after the container stops is refused") {
  ServedGate served(3s);
  served.vault.hold_verify = true;
  const pid_t login = served.Start({{"v", 1}, {"op", "gate.login"}}, "correct horse");
  REQUIRE(RunUntil(served.io, [&] { return served.vault.holding(); }));
  served.gate->StopAdmitting();
  served.vault.Release();

  CHECK(served.ExitCodeOf(login) == 4);  // refused: the container is stopping
  CHECK(served.gate->sessions() == 0);
}

// A login that dies while it waits behind another operation (killed, its
// terminal closed) must not have its passphrase unlock the vault for no
// one: the vault would stay open, its unlock hooks run, with no session.
TEST_CASE("gate: a login that died while it waited for the vault does not unlock it") {
  ServedGate served(3s);
  served.vault.Lock();
  const pid_t passwd = served.Start({{"v", 1}, {"op", "gate.passwd"}}, ChangeOfPassphrase());
  REQUIRE(RunUntil(served.io, [&] { return served.vault.holding(); }));
  const pid_t waiting = served.Start({{"v", 1}, {"op", "gate.login"}}, "correct horse");
  REQUIRE(RunUntil(served.io, [&] { return served.vault.waiting() == 1; }));
  kill(waiting, SIGKILL);
  CHECK(served.ExitCodeOf(waiting) == 128 + SIGKILL);
  served.vault.Release();
  REQUIRE(RunUntil(served.io, [&] { return served.vault.waiting() == 0; }));

  CHECK(served.ExitCodeOf(passwd) == 0);
  CHECK(served.vault.unlocks == 0);
  CHECK(served.vault.State() == "locked");
  CHECK(served.gate->sessions() == 0);
}
