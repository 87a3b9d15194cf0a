// The gate on a real control socket, for the host tests that run it in a
// process of its own (under a seccomp filter, or in a PID namespace), the
// wait for such a server to listen, and the vault double most of them
// start from.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>

#include "common/secret_buffer.h"
#include "session/control_client.h"
#include "session/control_server.h"
#include "session/gate.h"

namespace tazpod::testing {

// Serves the gate, over `vault`, on `socket_path` until killed; it dies
// with its parent, or within a minute should a test fail. Its log lines go
// to `log_path`, or nowhere. Exit status 11: the socket failed. `settings`
// are the gate's, with root as the user. Besides root, `allowed_uid` may
// connect, through the socket's group `group`.
[[noreturn]] inline void ServeGate(const std::string& socket_path, session::GateVault& vault,
                                   const std::string& log_path = "/dev/null",
                                   session::GateSettings settings = {}, uid_t allowed_uid = 0, gid_t group = 0) {
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  dup2(log, STDERR_FILENO);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(60);
  boost::asio::io_context io;
  settings.user = "root";
  settings.mountpoint = "/home/root";
  session::Gate gate(io, vault, settings);
  session::ControlServer control(io, socket_path, allowed_uid, group);
  if (!control.Listen().empty()) _exit(11);
  gate.Register(control);
  io.run();
  _exit(0);
}

// The uid the workstation user stands for in these tests: nobody, and its
// group nogroup, as on Debian.
constexpr uid_t kUserUid = 65534;
constexpr gid_t kUserGid = 65534;

// In a forked child: becomes kUserUid, in kUserGid and no other group, for
// good. False when a step failed.
inline bool BecomeUser() {
  return setgroups(0, nullptr) == 0 && setresgid(kUserGid, kUserGid, kUserGid) == 0 &&
         setresuid(kUserUid, kUserUid, kUserUid) == 0;
}

// Waits (up to 10 s) until a server listens on the Unix socket `path`:
// until a connection to it is made. Its file alone is not enough: it
// appears at bind(), before listen(). The connection is closed at once.
inline bool WaitUntilListening(const std::string& path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  for (int i = 0; i < 400; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool made = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (made) return true;
    usleep(25000);
  }
  return false;
}

// A vault in `state` that takes any passphrase: an unlock or a verify
// succeeds and leaves it unlocked, a lock locks it. Tests override what
// they make fail.
class AcceptingVault : public session::GateVault {
 public:
  explicit AcceptingVault(std::string state = "locked") : state_(std::move(state)) {}
  std::string State() const override { return state_; }
  void WhenIdle(std::function<void()> then) override { then(); }
  void Unlock(SecretBuffer, bool, Done done) override {
    state_ = "unlocked";
    done({true, false, ""});
  }
  void Verify(SecretBuffer, Done done) override { done({true, false, ""}); }
  void Lock(Done done) override {
    state_ = "locked";
    done({true, false, ""});
  }
  void ChangePassphrase(SecretBuffer, Done done) override { done({true, false, ""}); }
  int MountNamespace() const override { return -1; }

 protected:
  std::string state_;
};

// A gate served in a forked process (`serve` runs there, given the socket's
// and the log's paths, and calls ServeGate), in a directory of its own that
// goes, with the process, when this does.
class GateProcess {
 public:
  using Serve = std::function<void(const std::string& socket_path, const std::string& log_path)>;
  explicit GateProcess(const Serve& serve) {
    REQUIRE(mkdtemp(dir_) != nullptr);
    socket_ = std::string(dir_) + "/control.sock";
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      serve(socket_, std::string(dir_) + "/log");
      _exit(12);  // `serve` returned: ServeGate never does
    }
    REQUIRE(WaitUntilListening(socket_));
  }
  ~GateProcess() {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  GateProcess(const GateProcess&) = delete;
  GateProcess& operator=(const GateProcess&) = delete;

  const std::string& socket_path() const { return socket_; }
  // One request, answered within 10 s.
  session::CallResult Call(const nlohmann::json& header, SecretBuffer* secret = nullptr) {
    return session::Call(socket_, header, secret, std::chrono::seconds(10));
  }
  // The gate's log so far.
  std::string Log() const {
    std::stringstream text;
    text << std::ifstream(std::string(dir_) + "/log").rdbuf();
    return text.str();
  }
  // Stops the gate; returns its log.
  std::string Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return Log();
  }

 private:
  char dir_[32] = "/tmp/tazpod-gate-XXXXXX";
  std::string socket_;
  pid_t pid_ = -1;
};

// How many times `what` occurs in `text`.
inline int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace tazpod::testing
