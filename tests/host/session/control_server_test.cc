// The control server on a real socket, with handlers of the test's own:
// a reply is always sent, whatever text it carries, and what a client
// chose is echoed back in part only.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/flood_limit.h"
#include "common/log.h"
#include "common/unique_fd.h"

#include "session/control_client.h"
#include "session/control_server.h"
#include "tests/host/seccomp_deny.h"
#include "tests/host/session/serve_gate.h"

using namespace std::chrono_literals;
namespace session = tazpod::session;

namespace {

// Serves `socket_path` with one op, "test.path", whose reply holds a text
// that is not UTF-8 (as a mount point's path may be); never returns.
[[noreturn]] void Serve(const std::string& socket_path) {
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, STDERR_FILENO);  // the server's log lines
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(60);
  boost::asio::io_context io;
  session::ControlServer control(io, socket_path, 0, 0);
  if (!control.Listen().empty()) _exit(11);
  control.Handle("test.path", [](session::ControlRequest&, const session::ControlServer::Reply& reply) {
    reply({{"v", 1}, {"ok", false}, {"error", "umount /home/dev/s\xff\xfe" "crets: still in use"}});
  });
  io.run();
  _exit(0);
}

// How many times `what` is in `text`.
int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct Server {
  Server() {
    REQUIRE(mkdtemp(dir) != nullptr);
    path = std::string(dir) + "/control.sock";
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) Serve(path);
    REQUIRE(tazpod::testing::WaitUntilListening(path));
  }
  ~Server() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
  }
  char dir[32] = "/tmp/tazpod-control-XXXXXX";
  std::string path;
  pid_t pid = -1;
};

// A control server in a process of its own, logging to a memory file the
// test reads; `prepare` runs there first (a seccomp filter, an op of the
// test's), and exits 10 if it fails.
class LoggingServer {
 public:
  explicit LoggingServer(const std::function<bool(session::ControlServer&)>& prepare) {
    REQUIRE(mkdtemp(dir_) != nullptr);
    path_ = std::string(dir_) + "/control.sock";
    log_ = memfd_create("log", MFD_CLOEXEC);
    REQUIRE(log_ >= 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(60);
      tazpod::ConfigureLog(tazpod::LogFormat::kText, tazpod::LogLevel::kInfo, log_);
      boost::asio::io_context io;
      session::ControlServer control(io, path_, 0, 0);
      if (!prepare(control)) _exit(10);
      if (!control.Listen().empty()) _exit(11);
      io.run();
      _exit(0);
    }
    REQUIRE(tazpod::testing::WaitUntilListening(path_));
  }
  ~LoggingServer() {
    Stop(nullptr);
    close(log_);
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }
  // What it logged so far.
  std::string Log() const {
    std::string text(1 << 20, '\0');
    const ssize_t n = pread(log_, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }
  // Kills it; its resource use goes to *usage, when given.
  void Stop(struct rusage* usage) {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    struct rusage ignored {};
    wait4(pid_, nullptr, 0, usage ? usage : &ignored);
    pid_ = -1;
  }

 private:
  char dir_[32] = "/tmp/tazpod-control-XXXXXX";
  std::string path_;
  int log_ = -1;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("control server: a reply holding bytes that are not UTF-8 is still sent, with U+FFFD for them") {
  Server server;
  session::CallResult r = session::Call(server.path, {{"v", 1}, {"op", "test.path"}}, nullptr, 10s);
  INFO(r.error);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("error", "") == "umount /home/dev/s\xef\xbf\xbd\xef\xbf\xbd" "crets: still in use");
  // And the server goes on.
  CHECK(session::Call(server.path, {{"v", 1}, {"op", "test.path"}}, nullptr, 10s).delivered);
}

// The kB of memory `pid` has locked (VmLck), or -1.
long LockedKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Locked memory is scarce (RLIMIT_MEMLOCK may be 64 KiB without
// CAP_IPC_LOCK): a connection that sends no passphrase must hold none, or
// a few idle connections from any local user would leave none for root's
// passphrase.
TEST_CASE("control server: a connection holds locked memory only for a passphrase it sends") {
  Server server;
  std::vector<tazpod::UniqueFd> idle;
  for (int i = 0; i < 8; ++i) {
    tazpod::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, server.path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    idle.push_back(std::move(fd));
  }
  // Accepted in turn: once this one is answered, the eight above were
  // accepted, and each waits for its header.
  REQUIRE(session::Call(server.path, {{"v", 1}, {"op", "test.path"}}, nullptr, 10s).delivered);
  CHECK(LockedKb(server.pid) == 0);
}

TEST_CASE("control server: an unknown op is named in the refusal, cut to 64 bytes") {
  Server server;
  const std::string op(10000, 'x');
  session::CallResult r = session::Call(server.path, {{"v", 1}, {"op", op}}, nullptr, 10s);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("error", "") == "unknown op \"" + op.substr(0, 64) + "...\"");
}

TEST_CASE("control server: accept(2) failing for good (out of descriptors) neither spins nor floods the log") {
  LoggingServer server([](session::ControlServer&) {
    return tazpod::testing::DenySyscall(SYS_accept, EMFILE) && tazpod::testing::DenySyscall(SYS_accept4, EMFILE);
  });
  // Queued, never accepted: every try fails.
  const int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, server.path().c_str(), sizeof addr.sun_path - 1);
  REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  // From the first failure on, a second of retries.
  for (int i = 0; i < 400 && server.Log().empty(); ++i) usleep(25000);
  usleep(1000 * 1000);
  struct rusage usage {};
  server.Stop(&usage);
  close(client);
  CHECK(Count(server.Log(), "control.accept_failed") == 1);
  // Not a second of CPU spent retrying (a spin takes all of it).
  CHECK(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec == 0);
  CHECK(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec < 500000);
}

// Any process that reaches the socket can have a request refused, and each
// refusal is a log line: a loop of them must not write without bound to
// PID 1's log (docker keeps all of it, on the host's disk). Past a burst of
// 100 lines a uid in 10 s, refusals are still answered, not logged; what
// was held back is said at exit (here when the test asks).
TEST_CASE("control server: a flood of refused requests logs a burst, and every one is still answered") {
  LoggingServer server([](session::ControlServer& control) {
    control.Handle("test.flush", [](session::ControlRequest&, const session::ControlServer::Reply& reply) {
      tazpod::FlushFloodCounts();
      reply({{"v", 1}, {"ok", true}});
    });
    return true;
  });
  int answered = 0;
  for (int i = 0; i < 300; ++i) {
    session::CallResult r = session::Call(server.path(), {{"v", 1}, {"op", "no.such.op"}}, nullptr, 10s);
    if (r.delivered && r.reply.value("error", "").starts_with("unknown op")) ++answered;
  }
  CHECK(session::Call(server.path(), {{"v", 1}, {"op", "test.flush"}}, nullptr, 10s).reply.value("ok", false));
  server.Stop(nullptr);
  const std::string text = server.Log();
  CHECK(answered == 300);
  CHECK(Count(text, "warn control.refused") == 100);
  INFO(text.substr(text.size() > 300 ? text.size() - 300 : 0));  // the end: the flush
  CHECK(Count(text, "log.suppressed event=control.refused uid=0 suppressed=200") == 1);
}
