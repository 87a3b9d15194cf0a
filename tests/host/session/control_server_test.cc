// The control server on a real socket, with handlers of the test's own:
// a reply is always sent, whatever text it carries, and what a client
// chose is echoed back in part only; locked memory goes only to the
// passphrases an op takes, and the workstation user's are bounded.
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
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

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/descriptor_passing.h"
#include "common/flood_limit.h"
#include "common/log.h"
#include "common/unique_fd.h"

#include "session/control_client.h"
#include "session/control_server.h"
#include "session/protocol.h"
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
  // Besides root, `allowed_uid` may connect, through the socket's group
  // `group` (and the test's directory, opened to all for that).
  explicit LoggingServer(const std::function<bool(session::ControlServer&)>& prepare, uid_t allowed_uid = 0,
                         gid_t group = 0) {
    REQUIRE(mkdtemp(dir_) != nullptr);
    if (allowed_uid != 0) REQUIRE(chmod(dir_, 0711) == 0);
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
      session::ControlServer control(io, path_, allowed_uid, group);
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
  pid_t pid() const { return pid_; }
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

// A socket right under "/" (session.socket = "/control.sock") has "/" for
// its directory, which only root may write: it listens. Before, the
// directory came out as "" and the listen failed with "mkdir : No such
// file or directory". In a chroot of the case's own, so that "/" is a
// scratch directory.
TEST_CASE("control server: a socket right under the root directory listens") {
  char dir[] = "/tmp/tazpod-control-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  REQUIRE(chmod(dir, 0755) == 0);
  int pipe_fds[2];
  REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(null, STDERR_FILENO);
    if (chroot(dir) != 0 || chdir("/") != 0) _exit(10);
    boost::asio::io_context io;
    session::ControlServer control(io, "/control.sock", 0, 0);
    const std::string error = control.Listen();
    (void)!write(pipe_fds[1], error.data(), error.size());
    _exit(error.empty() ? 0 : 1);
  }
  close(pipe_fds[1]);
  char error[256] = {};
  (void)!read(pipe_fds[0], error, sizeof error - 1);
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  std::filesystem::remove_all(dir);
  INFO(error);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// Root's socket is a path nobody configured (session.socket + ".root"):
// whatever else is there is named, never deleted, and the shared socket is
// not served alone either.
TEST_CASE("control server: a file that is not a socket at root's socket path is refused, not deleted") {
  char dir[] = "/tmp/tazpod-control-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/control.sock";
  const std::string root_path = session::RootSocketPath(path);
  { std::ofstream(root_path) << "not ours"; }
  std::string error;
  {
    boost::asio::io_context io;
    session::ControlServer control(io, path, 0, 0);
    error = control.Listen();
  }
  std::string kept;
  std::getline(std::ifstream(root_path), kept);
  const bool shared_left = std::filesystem::exists(path);
  std::filesystem::remove_all(dir);
  INFO(error);
  CHECK(error.find(root_path + " is there and is not a socket") != std::string::npos);
  CHECK(kept == "not ours");
  CHECK_FALSE(shared_left);
}

// Health reports the control socket as accepting nothing while accept(2)
// fails (docs/health.md: /readyz is 503 then), so the server must say so
// from the first failure until a connection gets in again. Here with no
// descriptor left for accept (RLIMIT_NOFILE at the lowest free one), then
// with the limit raised again.
TEST_CASE("control server: says accepting fails while it does, and not once a connection gets in again") {
  char dir[] = "/tmp/tazpod-control-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/control.sock";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(null, STDERR_FILENO);  // the server's log lines
    alarm(30);
    boost::asio::io_context io;
    session::ControlServer control(io, path, 0, 0);
    if (!control.Listen().empty()) _exit(10);
    tazpod::UniqueFd client(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (!client || connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(11);
    io.run_for(100ms);  // accepted: no failure yet
    if (control.accept_failing() || !control.accept_error().empty()) _exit(12);
    // A second client, queued: the server has no descriptor to take it.
    tazpod::UniqueFd waiting(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!waiting || connect(waiting.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(13);
    const int lowest_free = fcntl(0, F_DUPFD_CLOEXEC, 0);
    close(lowest_free);
    struct rlimit limit {};
    getrlimit(RLIMIT_NOFILE, &limit);
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = static_cast<rlim_t>(lowest_free);
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || fcntl(0, F_DUPFD_CLOEXEC, 0) >= 0) _exit(14);
    io.run_for(300ms);  // three retries, each EMFILE
    io.poll();          // a retry whose accept has failed, not yet handled
    if (!control.accept_failing()) _exit(16);
    if (control.accept_error() != std::strerror(EMFILE)) _exit(17);
    limit.rlim_cur = soft;
    setrlimit(RLIMIT_NOFILE, &limit);
    io.run_for(300ms);  // the next retry takes it
    io.poll();
    if (control.accept_failing() || !control.accept_error().empty()) _exit(18);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  std::filesystem::remove_all(dir);
  REQUIRE(WIFEXITED(status));
  // 10, 11, 13, 14 set-up; 12 failing before the limit, 16 not failing under it, 17
  // another error, 18 still failing once the limit is raised.
  CHECK(WEXITSTATUS(status) == 0);
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

namespace {

using tazpod::testing::kUserGid;
using tazpod::testing::kUserUid;

// A connection to the socket at `path` made by a process of kUserUid's,
// which hands it back and exits: the server sees that uid (SO_PEERCRED is
// taken at connect()), while the test writes and reads as it likes.
tazpod::UniqueFd ConnectAsUser(const std::string& path) {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  tazpod::UniqueFd ours(pair[0]);
  tazpod::UniqueFd theirs(pair[1]);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!tazpod::testing::BecomeUser()) _exit(2);
    tazpod::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
    const char byte = 'c';
    _exit(tazpod::SendWithDescriptor(theirs.get(), &byte, 1, fd.get()) == 1 ? 0 : 4);
  }
  theirs.Reset();
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  char byte = 0;
  tazpod::UniqueFd connection;
  REQUIRE(tazpod::ReceiveWithDescriptor(ours.get(), &byte, 1, &connection) == 1);
  REQUIRE(connection);
  return connection;
}

// A request for `op`: its header, then a secret part of `announced` bytes
// of which only `secret` is sent (all of it when they are the same size).
std::string Frame(const std::string& op, std::uint32_t announced, const std::string& secret = "") {
  const std::string header = nlohmann::json({{"v", 1}, {"op", op}}).dump();
  unsigned char length[4];
  std::string frame;
  session::EncodeLength(static_cast<std::uint32_t>(header.size()), length);
  frame.append(reinterpret_cast<char*>(length), 4).append(header);
  session::EncodeLength(announced, length);
  frame.append(reinterpret_cast<char*>(length), 4).append(secret);
  return frame;
}

void SendAll(int fd, const std::string& bytes) {
  REQUIRE(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// The reply on `fd` if one comes within `timeout_ms`: its JSON text, or
// "closed" when the server closed the connection without one; empty when
// nothing came.
std::string ReplyWithin(int fd, int timeout_ms) {
  struct pollfd p {fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return "";
  unsigned char length[4];
  if (recv(fd, length, 4, MSG_WAITALL) != 4) return "closed";
  std::string text(session::DecodeLength(length), '\0');
  if (recv(fd, text.data(), text.size(), MSG_WAITALL) != static_cast<ssize_t>(text.size())) return "closed";
  return text;
}

// Answers `op` with the size of the passphrase it was given, and whether
// it was given memory for one at all.
void HandleSecretSize(session::ControlServer& control, const std::string& op, session::ControlServer::Passphrase whose) {
  control.Handle(op, [](session::ControlRequest& request, const session::ControlServer::Reply& reply) {
    reply({{"v", 1}, {"ok", true}, {"size", request.secret.size()}, {"memory", request.secret.valid()}});
  }, whose);
}

}  // namespace

// PID 1 locks a page for each passphrase it reads, and locked memory is
// scarce: an op that takes none must not make it lock one.
TEST_CASE("control server: a passphrase sent with an op that takes none is refused unread") {
  Server server;
  tazpod::SecretBuffer secret;
  secret.Append("a passphrase", 12);
  session::CallResult r = session::Call(server.path, {{"v", 1}, {"op", "test.path"}}, &secret, 10s);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("ok", true) == false);
  CHECK(r.reply.value("error", "") == "test.path takes no passphrase");
}

// The vault ops and gate.login refuse every uid but root's: the user's
// passphrase for them is left unread, so it never takes a locked page.
TEST_CASE("control server: another uid's passphrase for an op that takes root's alone is left unread") {
  if (geteuid() != 0) SKIP("connects as another uid: needs root");
  LoggingServer server(
      [](session::ControlServer& control) {
        HandleSecretSize(control, "test.root", session::ControlServer::Passphrase::kFromRoot);
        return true;
      },
      kUserUid, kUserGid);
  tazpod::UniqueFd user = ConnectAsUser(server.path());
  SendAll(user.get(), Frame("test.root", 16, "sixteen bytes..."));
  const std::string reply = ReplyWithin(user.get(), 10000);
  INFO(reply);
  CHECK(reply.find("\"size\":0") != std::string::npos);
  CHECK(reply.find("\"memory\":false") != std::string::npos);
  // Root's is read.
  tazpod::SecretBuffer secret;
  secret.Append("a passphrase", 12);
  session::CallResult r = session::Call(server.path(), {{"v", 1}, {"op", "test.root"}}, &secret, 10s);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("size", 0) == 12);
}

// Without the cap, the user's connections (24 of them) could each announce
// a passphrase and stall, holding a locked page apiece until their read
// deadline: 96 KiB, more than a 64 KiB RLIMIT_MEMLOCK, and root's login
// would be told "cannot lock memory".
TEST_CASE("control server: the user's passphrases are held two at a time, and root's still gets in") {
  if (geteuid() != 0) SKIP("connects as another uid: needs root");
  LoggingServer server(
      [](session::ControlServer& control) {
        HandleSecretSize(control, "test.secret", session::ControlServer::Passphrase::kFromRootOrUser);
        return true;
      },
      kUserUid, kUserGid);
  // Four announce a passphrase and send none of it.
  std::vector<tazpod::UniqueFd> stalled;
  for (int i = 0; i < 4; ++i) {
    stalled.push_back(ConnectAsUser(server.path()));
    SendAll(stalled.back().get(), Frame("test.secret", 16));
  }
  // Two are refused at once; the others wait for their passphrases (and
  // would be dropped after the server's 5 s read timeout).
  std::vector<std::string> refusals;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (refusals.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (tazpod::UniqueFd& fd : stalled) {
      if (!fd) continue;
      std::string reply = ReplyWithin(fd.get(), 20);
      if (reply.empty()) continue;
      refusals.push_back(std::move(reply));
      fd.Reset();
    }
  }
  REQUIRE(refusals.size() == 2);
  for (const std::string& reply : refusals) {
    INFO(reply);
    CHECK(reply.find("too many passphrases of this user's are waiting") != std::string::npos);
  }
  std::vector<tazpod::UniqueFd> held;
  for (tazpod::UniqueFd& fd : stalled)
    if (fd) held.push_back(std::move(fd));
  REQUIRE(held.size() == 2);
  CHECK(ReplyWithin(held[0].get(), 0).empty());
  CHECK(ReplyWithin(held[1].get(), 0).empty());
  if (!std::getenv("TAZPOD_SANITIZED")) CHECK(LockedKb(server.pid()) == 8);  // ASan's mlock() locks nothing
  // Root's passphrase is read meanwhile.
  tazpod::SecretBuffer secret;
  secret.Append("a passphrase", 12);
  session::CallResult r = session::Call(server.path(), {{"v", 1}, {"op", "test.secret"}}, &secret, 10s);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("size", 0) == 12);
  // One the user gives up makes room for the next.
  held.front().Reset();
  tazpod::UniqueFd next = ConnectAsUser(server.path());
  SendAll(next.get(), Frame("test.secret", 16, "sixteen bytes..."));
  const std::string reply = ReplyWithin(next.get(), 10000);
  INFO(reply);
  CHECK(reply.find("\"size\":16") != std::string::npos);
  CHECK(server.Log().find("too many passphrases") != std::string::npos);
}

// The workstation user can connect to the shared socket faster than PID 1
// takes and refuses what is over its limits, and so keep its listen
// backlog full: root's `tazpod health` would then find no way in. Root's
// requests go through root's own socket, which the user cannot reach.
// Here the server is stopped (SIGSTOP) while a process of the user's fills
// the backlog, so that it stays full for the test's whole look.
TEST_CASE("control server: root's requests get in through root's own socket while the user fills the shared one") {
  if (geteuid() != 0) SKIP("connects as another uid: needs root");
  LoggingServer server([](session::ControlServer&) { return true; }, kUserUid, kUserGid);
  const std::string root_path = session::RootSocketPath(server.path());
  struct stat st {};
  REQUIRE(lstat(root_path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);
  CHECK(st.st_gid == 0);
  REQUIRE(kill(server.pid(), SIGSTOP) == 0);
  int report[2];
  REQUIRE(pipe2(report, O_CLOEXEC) == 0);
  const pid_t user = fork();
  REQUIRE(user >= 0);
  if (user == 0) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(60);
    // More descriptors than the backlog holds (net.core.somaxconn, 4096 by
    // default, and Asio asks for no more): the soft limit up to the hard.
    struct rlimit limit {};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || !tazpod::testing::BecomeUser()) _exit(2);
    // 'f': the backlog is full; 'r': root's socket let the user in; 'n': never
    // full; 'l': too few descriptors to fill it.
    char result = limit.rlim_max < 4200 ? 'l' : 'n';
    auto connect_to = [](const std::string& path, int flags) {
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
      const bool made = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      const int err = errno;
      if (!made && fd >= 0) close(fd);
      errno = err;
      return made ? fd : -1;
    };
    if (connect_to(root_path, SOCK_NONBLOCK) >= 0 || errno != EACCES) result = 'r';
    for (int i = 0; i < 16000 && result == 'n'; ++i) {  // 'r', 'l': no need
      if (connect_to(server.path(), SOCK_NONBLOCK) >= 0) continue;  // held until the end
      if (errno == EMFILE || errno == ENFILE) result = 'l';
      else if (errno == EAGAIN) result = 'f';
      else break;
    }
    (void)!write(report[1], &result, 1);
    pause();  // holds its connections until killed
    _exit(0);
  }
  close(report[1]);
  char result = 0;
  const bool reported = read(report[0], &result, 1) == 1;
  close(report[0]);
  // Root's own connection to the shared socket finds it full too.
  const tazpod::UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, server.path().c_str(), sizeof addr.sun_path - 1);
  const int probed = connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  // Root's call is sent through its socket: the stopped server cannot
  // answer it yet, but it is in.
  const nlohmann::json ping = {{"v", 1}, {"op", "control.ping"}};
  const session::CallResult stopped = session::Call(server.path(), ping, nullptr, 500ms);
  kill(server.pid(), SIGCONT);
  const session::CallResult running = session::Call(server.path(), ping, nullptr, 10s);
  kill(user, SIGKILL);
  waitpid(user, nullptr, 0);
  REQUIRE(reported);
  if (result == 'l') SKIP("too few descriptors (RLIMIT_NOFILE's hard limit) to fill the listen backlog");
  REQUIRE(result == 'f');  // 'r': the user reached root's socket; 'n': the backlog was never full
  REQUIRE(probed == EAGAIN);
  INFO(stopped.error);
  CHECK(stopped.sent);
  INFO(running.error);
  CHECK(running.delivered);
  CHECK(running.reply.value("ok", false));
}

// Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0, the server cannot lock a
// passphrase's page: it refuses the passphrase, clearly, and goes on.
TEST_CASE("control server: a passphrase is refused when it cannot be locked, and the server goes on") {
  if (std::getenv("TAZPOD_SANITIZED")) SKIP("ASan's mlock() is a no-op that returns 0: nothing to refuse");
  LoggingServer server([](session::ControlServer& control) {
    struct __user_cap_header_struct header {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] {};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    const unsigned bit = 1u << CAP_IPC_LOCK;  // < 32: in the first word
    data[0].effective &= ~bit;
    data[0].permitted &= ~bit;
    const struct rlimit none {0, 0};
    if (syscall(SYS_capset, &header, data) != 0 || setrlimit(RLIMIT_MEMLOCK, &none) != 0) return false;
    HandleSecretSize(control, "test.root", session::ControlServer::Passphrase::kFromRoot);
    return true;
  });
  tazpod::SecretBuffer secret;
  secret.Append("a passphrase", 12);
  session::CallResult r = session::Call(server.path(), {{"v", 1}, {"op", "test.root"}}, &secret, 10s);
  REQUIRE(r.delivered);
  CHECK(r.reply.value("error", "").find("cannot lock memory") != std::string::npos);
  CHECK(session::Call(server.path(), {{"v", 1}, {"op", "control.ping"}}, nullptr, 10s).delivered);
}

// The reply to a login may take an unlock's whole time (its hooks), to a
// passphrase change minutes: the client has no use for the passphrase once
// it is sent, and must not hold it meanwhile.
TEST_CASE("control client: the passphrase is wiped once the request is written, before the reply") {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  tazpod::UniqueFd dispatched(fds[0]);
  tazpod::UniqueFd dispatched_write(fds[1]);
  const int signal_fd = dispatched_write.get();
  // Says (on the pipe) that the request arrived whole, and never answers
  // (but keeps the connection: a reply dropped closes it).
  LoggingServer server([signal_fd](session::ControlServer& control) {
    auto unanswered = std::make_shared<std::vector<session::ControlServer::Reply>>();
    control.Handle(
        "test.hold",
        [signal_fd, unanswered](session::ControlRequest&, const session::ControlServer::Reply& reply) {
          unanswered->push_back(reply);
          (void)!write(signal_fd, "d", 1);
        },
        session::ControlServer::Passphrase::kFromRoot);
    return true;
  });
  dispatched_write.Reset();
  tazpod::SecretBuffer secret;
  secret.Append("a passphrase", 12);
  std::size_t size_meanwhile = 99;
  bool wiped_meanwhile = false;
  session::CallWake wake;
  wake.fd = dispatched.get();
  wake.answer = [&] {
    char byte;
    (void)!read(dispatched.get(), &byte, 1);
    size_meanwhile = secret.size();
    wiped_meanwhile = std::all_of(secret.data(), secret.data() + 12, [](char c) { return c == '\0'; });
    return false;  // stop waiting
  };
  session::CallResult r = session::Call(server.path(), {{"v", 1}, {"op", "test.hold"}}, &secret, 10s, wake);
  CHECK(r.sent);
  CHECK(r.abandoned);
  CHECK(size_meanwhile == 0);
  CHECK(wiped_meanwhile);
}

// The client waits for the reply in poll(2), against its deadline and its
// wake descriptor. A poll that fails for good (ENOMEM) must end the call
// with the reason: falling through to the blocking read would wait with no
// deadline, and a health probe or a login would hang for as long as PID 1
// stays silent.
TEST_CASE("control client: a poll that fails ends the call with its error, never a wait without deadline") {
  char dir[] = "/tmp/tazpod-client-poll-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/control.sock";
  // A socket that takes the connection (in its backlog) and never answers.
  tazpod::UniqueFd silent(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(silent);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(silent.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(silent.get(), 4) == 0);
  const pid_t client = fork();
  REQUIRE(client >= 0);
  if (client == 0) {
    alarm(20);  // a client that waits without its deadline is killed here
    // poll(2) is ppoll on architectures without SYS_poll (arm64).
#ifdef SYS_poll
    if (!tazpod::testing::DenySyscall(SYS_poll, ENOMEM)) _exit(10);
#endif
    if (!tazpod::testing::DenySyscall(SYS_ppoll, ENOMEM)) _exit(10);
    session::CallResult r = session::Call(path, {{"v", 1}, {"op", "control.ping"}}, nullptr, 2s);
    if (r.delivered) _exit(11);
    _exit(r.error == std::string("poll: ") + std::strerror(ENOMEM) ? 0 : 12);
  }
  int status = 0;
  REQUIRE(waitpid(client, &status, 0) == client);
  std::filesystem::remove_all(dir);
  INFO("status " << status);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
