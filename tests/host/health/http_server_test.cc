// The health endpoint's HTTP server on a real event loop and real loopback
// sockets: what a probe gets, and what an abusive client cannot make it hold.
//
// The server runs on its own thread's io_context; the test thread is the
// client, with plain blocking sockets. Every socket read has a generous
// timeout (kPatience), so a server bug fails the test instead of hanging it;
// deadlines under test are short (kShortDeadline) and only "it happened" is
// asserted, never how fast.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/descriptors.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "health/http_server.h"
#include "tests/host/captured_log.h"
#include "tests/host/seccomp_deny.h"

using namespace std::chrono_literals;
using tazpod::UniqueFd;
using tazpod::health::HttpLimits;
using tazpod::health::HttpResponse;
using tazpod::health::HttpServer;
using tazpod::health::HttpServerStats;

namespace {

constexpr auto kPatience = 10s;
constexpr auto kShortDeadline = 200ms;

// A started server on 127.0.0.1, an ephemeral port, and a loop thread.
class Harness {
 public:
  explicit Harness(HttpLimits limits = {}) : work_(io_.get_executor()), server_(io_, "127.0.0.1", 0, limits) {
    server_.Route("/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
    server_.Route("/boom", []() -> HttpResponse { throw std::runtime_error("handler bug"); });
    // More than any socket buffer holds: its writing waits on the client.
    server_.Route("/big", [] { return HttpResponse{200, "text/plain; charset=utf-8", std::string(32 << 20, 'x')}; });
    const std::string error = server_.Start();
    INFO(error);
    REQUIRE(error.empty());
    REQUIRE(server_.port() != 0);
    loop_ = std::thread([this] { io_.run(); });
  }

  // A throw here (out of memory, a failed join) ends the test binary: the right outcome.
  ~Harness() {  // NOLINT(bugprone-exception-escape)
    boost::asio::post(io_, [this] {
      server_.Stop();
      work_.reset();
    });
    loop_.join();
  }

  std::uint16_t port() const { return server_.port(); }

  // Runs `f` on the loop thread (the server is not thread-safe) and returns its result.
  template <typename F>
  auto OnLoop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  int active() { return OnLoop([this] { return server_.active_connections(); }); }
  HttpServerStats stats() { return OnLoop([this] { return server_.stats(); }); }

  // Waits (boundedly) until the server has `n` open connections.
  bool WaitForActive(int n) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < give_up) {
      if (active() == n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  HttpServer server_;
  std::thread loop_;
};

// One blocking TCP client to 127.0.0.1.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_.valid());
    timeval tv{std::chrono::duration_cast<std::chrono::seconds>(kPatience).count(), 0};
    REQUIRE(setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }

  // Bytes received and not read yet.
  int Unread() const {
    int n = 0;
    return ioctl(fd_.get(), FIONREAD, &n) == 0 ? n : -1;
  }

  // False when the server has closed the connection already.
  bool Send(const std::string& data) {
    return send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }

  // Reads one response: the header, then Content-Length bytes of body
  // (none for a HEAD request). Returns what it got, short on close.
  std::string ReadResponse(bool head = false) {
    std::string got = pending_;
    pending_.clear();
    std::size_t header_end;
    while ((header_end = got.find("\r\n\r\n")) == std::string::npos)
      if (!ReadMore(got)) return got;
    header_end += 4;
    std::size_t length = 0;
    const auto at = got.find("Content-Length: ");
    if (!head && at != std::string::npos && at < header_end) length = std::stoul(got.substr(at + 16));
    while (got.size() < header_end + length)
      if (!ReadMore(got)) return got;
    pending_ = got.substr(header_end + length);
    return got.substr(0, header_end + length);
  }

  // True when the server closed the connection (end of file or reset)
  // before kPatience ran out; whatever arrives first is read and dropped.
  bool ClosedByServer() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;  // EAGAIN: our own timeout ran out
    }
  }

 private:
  bool ReadMore(std::string& into) {
    char buffer[4096];
    const ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    into.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  UniqueFd fd_;
  std::string pending_;
};

int StatusOf(const std::string& response) {
  if (response.size() < 12 || !response.starts_with("HTTP/1.")) return -1;
  return std::stoi(response.substr(9, 3));
}

std::string BodyOf(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

bool HasHeader(const std::string& response, const std::string& line) {
  return response.find("\r\n" + line + "\r\n") != std::string::npos;
}

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}

// Runs `body` in a forked child, for what cannot be taken back (a seccomp
// filter, a lowered limit, the log's destination), and returns the child's
// exit status: what `body` returned, or what an _exit() in it gave, or
// 128 + N when signal N ended it. The child ends itself within a minute,
// so a failed test leaves nothing behind.
int InChild(const std::function<int()>& body) {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(60);
    _exit(body());
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("health http: GET /healthz answers 200 with the handler's body") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send(Get("/healthz")));
  const std::string response = c.ReadResponse();
  CHECK(StatusOf(response) == 200);
  CHECK(BodyOf(response) == "ok\n");
  CHECK(HasHeader(response, "Content-Type: text/plain; charset=utf-8"));
  CHECK(HasHeader(response, "Cache-Control: no-store"));
  // The query string does not change the route.
  REQUIRE(c.Send(Get("/healthz?verbose=1")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
}

TEST_CASE("health http: HEAD gets the headers and length of GET, without the body") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send("HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const std::string response = c.ReadResponse(true);
  CHECK(StatusOf(response) == 200);
  CHECK(HasHeader(response, "Content-Length: 3"));
  CHECK(BodyOf(response).empty());
  // The connection is still in step: the next answer starts where it should.
  REQUIRE(c.Send(Get("/healthz")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
}

TEST_CASE("health http: an unknown path is 404, POST and DELETE are 405") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send(Get("/nope")));
  CHECK(StatusOf(c.ReadResponse()) == 404);
  REQUIRE(c.Send("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"));
  const std::string post = c.ReadResponse();
  CHECK(StatusOf(post) == 405);
  CHECK(HasHeader(post, "Allow: GET, HEAD"));
  REQUIRE(c.Send("DELETE /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  CHECK(StatusOf(c.ReadResponse()) == 405);
}

TEST_CASE("health http: a request with a body is refused with 413 and the connection closed") {
  Harness h;
  SECTION("Content-Length") {
    Client c(h.port());
    REQUIRE(c.Send(Get("/healthz", "Content-Length: 11\r\n") + "hello world"));
    const std::string response = c.ReadResponse();
    CHECK(StatusOf(response) == 413);
    CHECK(HasHeader(response, "Connection: close"));
    CHECK(c.ClosedByServer());
  }
  SECTION("chunked") {
    Client c(h.port());
    REQUIRE(c.Send(Get("/healthz", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"));
    CHECK(StatusOf(c.ReadResponse()) == 413);
    CHECK(c.ClosedByServer());
  }
  SECTION("POST with a body is 405, and closed") {
    Client c(h.port());
    REQUIRE(c.Send("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK(StatusOf(c.ReadResponse()) == 405);
    CHECK(c.ClosedByServer());
  }
  // Beast's parser refuses a declared body over 1 MiB when the header
  // ends; the body is never read, so its size must not turn the answer
  // into a 400.
  SECTION("a body declared larger than a MiB, never sent") {
    Client c(h.port());
    REQUIRE(c.Send(Get("/healthz", "Content-Length: 2000000\r\n")));
    CHECK(StatusOf(c.ReadResponse()) == 413);
    CHECK(c.ClosedByServer());
  }
  SECTION("POST with a body declared larger than a MiB is 405") {
    Client c(h.port());
    REQUIRE(c.Send("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\n\r\n"));
    CHECK(StatusOf(c.ReadResponse()) == 405);
    CHECK(c.ClosedByServer());
  }
  CHECK(h.stats().bad_requests >= 1);
}

TEST_CASE("health http: an oversized header is refused with 431 and the connection closed") {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  Harness h(limits);
  Client c(h.port());
  REQUIRE(c.Send(Get("/healthz", "X-Padding: " + std::string(4000, 'a') + "\r\n")));
  CHECK(StatusOf(c.ReadResponse()) == 431);
  CHECK(c.ClosedByServer());
  // A header under the limit is fine.
  Client d(h.port());
  REQUIRE(d.Send(Get("/healthz", "X-Padding: " + std::string(500, 'a') + "\r\n")));
  CHECK(StatusOf(d.ReadResponse()) == 200);
}

TEST_CASE("health http: garbage is a 400 and a closed connection") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send("NOT HTTP AT ALL\r\n\r\n"));
  CHECK(StatusOf(c.ReadResponse()) == 400);
  CHECK(c.ClosedByServer());
}

TEST_CASE("health http: a handler that throws gets a 500 and the server goes on") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send(Get("/boom")));
  CHECK(StatusOf(c.ReadResponse()) == 500);
  REQUIRE(c.Send(Get("/healthz")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
}

TEST_CASE("health http: over the connection limit, a new connection takes the place of the one waiting longest") {
  HttpLimits limits;
  limits.max_connections = 4;
  Harness h(limits);
  // Slow clients, as a slow-loris attack holds them: each has sent half a
  // request header. The first waits longest (it connected first).
  std::vector<std::unique_ptr<Client>> held;
  held.reserve(limits.max_connections);
  for (int i = 0; i < limits.max_connections; ++i) {
    held.push_back(std::make_unique<Client>(h.port()));
    REQUIRE(h.WaitForActive(i + 1));
    REQUIRE(held.back()->Send("GET /healthz HTTP/1.1\r\n"));
  }

  // A probe still gets its answer; the longest-waiting client makes room.
  Client probe(h.port());
  REQUIRE(probe.Send(Get("/healthz")));
  CHECK(StatusOf(probe.ReadResponse()) == 200);
  CHECK(held[0]->ClosedByServer());
  CHECK(h.stats().connections_evicted == 1);
  CHECK(h.active() == limits.max_connections);

  // The others are still served.
  REQUIRE(held[1]->Send("Host: test\r\n\r\n"));
  CHECK(StatusOf(held[1]->ReadResponse()) == 200);
}

TEST_CASE("health http: clients that never take their replies make room too, for the one waiting longest") {
  HttpLimits limits;
  limits.max_connections = 2;
  Harness h(limits);
  // Each asks for a reply larger than the socket buffers, and reads none
  // of it: the server's write waits on them until its deadline (5 s).
  std::vector<std::unique_ptr<Client>> stalled;
  for (int i = 0; i < limits.max_connections; ++i) {
    stalled.push_back(std::make_unique<Client>(h.port()));
    REQUIRE(h.WaitForActive(i + 1));
    REQUIRE(stalled.back()->Send(Get("/big")));
    // Its reply under way: the server is writing, no longer reading.
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (stalled.back()->Unread() <= 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(5ms);
    REQUIRE(stalled.back()->Unread() > 0);
  }
  Client probe(h.port());
  REQUIRE(probe.Send(Get("/healthz")));
  CHECK(StatusOf(probe.ReadResponse()) == 200);
  CHECK(h.stats().connections_evicted == 1);
}

TEST_CASE("health http: a flood of connections stays within the limit and the server still answers") {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.read_timeout = kShortDeadline;
  Harness h(limits);
  std::vector<std::unique_ptr<Client>> flood;
  flood.reserve(200);
  for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<Client>(h.port()));
  CHECK(h.active() <= limits.max_connections);
  for (auto& client : flood) CHECK(client->ClosedByServer());  // evicted, or timed out idle
  flood.clear();
  REQUIRE(h.WaitForActive(0));
  const HttpServerStats stats = h.stats();
  CHECK(stats.connections_accepted == 200);
  CHECK(stats.connections_evicted >= 200 - static_cast<std::uint64_t>(limits.max_connections));
  Client c(h.port());
  REQUIRE(c.Send(Get("/healthz")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
}

TEST_CASE("health http: a slow-loris client is dropped at the read deadline; others are served meanwhile") {
  HttpLimits limits;
  limits.read_timeout = kShortDeadline;
  Harness h(limits);
  Client loris(h.port());
  REQUIRE(loris.Send("GET /healthz HTTP/1.1\r\nHost: loc"));  // half a header, then nothing
  Client polite(h.port());
  REQUIRE(polite.Send(Get("/healthz")));
  CHECK(StatusOf(polite.ReadResponse()) == 200);
  CHECK(loris.ClosedByServer());
  CHECK(h.stats().timeouts >= 1);
}

TEST_CASE("health http: a connection that trickles its header past the deadline is dropped too") {
  HttpLimits limits;
  limits.read_timeout = kShortDeadline;
  Harness h(limits);
  Client loris(h.port());
  // A byte every 50 ms keeps a per-read timeout happy forever; the deadline
  // is for the whole header.
  const std::string request = Get("/healthz", "X-Slow: " + std::string(200, 'z') + "\r\n");
  bool closed = false;
  for (char byte : request) {
    if (!loris.Send(std::string(1, byte))) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  CHECK((closed || loris.ClosedByServer()));
  CHECK(h.stats().timeouts >= 1);
}

TEST_CASE("health http: keep-alive ends after the request limit with Connection: close") {
  HttpLimits limits;
  limits.max_requests_per_connection = 3;
  Harness h(limits);
  Client c(h.port());
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(c.Send(Get("/healthz")));
    const std::string response = c.ReadResponse();
    CHECK(StatusOf(response) == 200);
    CHECK(HasHeader(response, "Connection: close") == (i == 3));
  }
  CHECK(c.ClosedByServer());
}

TEST_CASE("health http: pipelined requests are each answered, in order") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send(Get("/healthz") + Get("/nope") + Get("/healthz")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
  CHECK(StatusOf(c.ReadResponse()) == 404);
  CHECK(StatusOf(c.ReadResponse()) == 200);
}

TEST_CASE("health http: an idle kept-alive connection is closed after the idle timeout") {
  HttpLimits limits;
  limits.idle_timeout = kShortDeadline;
  Harness h(limits);
  Client c(h.port());
  REQUIRE(c.Send(Get("/healthz")));
  CHECK(StatusOf(c.ReadResponse()) == 200);
  CHECK(c.ClosedByServer());
  REQUIRE(h.WaitForActive(0));
  // The normal end of a kept-alive connection (Prometheus keeps its scrape
  // connection open): not a timeout, or the counter would grow every scrape.
  CHECK(h.stats().timeouts == 0);
}

TEST_CASE("health http: HTTP/1.0 without keep-alive gets one answer and a close") {
  Harness h;
  Client c(h.port());
  REQUIRE(c.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  const std::string response = c.ReadResponse();
  CHECK(response.starts_with("HTTP/1.0 200"));
  CHECK(c.ClosedByServer());
}

TEST_CASE("health http: Start reports a port in use and a bad address instead of throwing") {
  boost::asio::io_context io;
  HttpServer first(io, "127.0.0.1", 0);
  REQUIRE(first.Start().empty());
  HttpServer second(io, "127.0.0.1", first.port());
  const std::string error = second.Start();
  CHECK(error.find("listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
  CHECK(error.find("in use") != std::string::npos);
  CHECK(second.port() == 0);

  HttpServer bad(io, "localhost:80", 9090);
  CHECK(bad.Start().find("invalid listen address") != std::string::npos);

  CHECK(first.Start().find("already listening") != std::string::npos);
}

TEST_CASE("health http: a stopped server leaves nothing pending on the loop") {
  boost::asio::io_context io;
  {
    HttpServer server(io, "127.0.0.1", 0);
    REQUIRE(server.Start().empty());
    server.Stop();
  }
  // With no client there is no timer: once the listener is closed, the loop
  // has nothing left to wait for and run() returns at once.
  const auto start = std::chrono::steady_clock::now();
  io.run();
  CHECK(std::chrono::steady_clock::now() - start < kPatience);
}

TEST_CASE("health http: accept(2) failing for good (out of descriptors) is logged once, not at each retry") {
  // In a child: a seccomp filter cannot be taken back, and the log goes to
  // a memory file there.
  const int status = InChild([&] {
    const tazpod::testing::CapturedLog log(tazpod::LogLevel::kDebug);
    if (!log.valid()) _exit(1);
    if (!tazpod::testing::DenySyscall(SYS_accept, EMFILE) || !tazpod::testing::DenySyscall(SYS_accept4, EMFILE))
      _exit(2);
    int lines = 0;
    {
      Harness h;
      Client waiting(h.port());  // queued, never accepted: every retry fails
      std::this_thread::sleep_for(1s);  // some ten retries, 100 ms apart
      const std::string text = log.Text();
      for (std::size_t at = text.find("health.http.accept_failed error="); at != std::string::npos;
           at = text.find("health.http.accept_failed error=", at + 1))
        ++lines;
    }
    return lines == 1 ? 0 : 10 + lines;
  });
  INFO("exit 10 + N: N lines logged");
  CHECK(status == 0);
}

// The server keeps 64 descriptors free for the rest of PID 1, which opens
// more as it works (control connections, sessions' pidfds, a helper's
// pipes): what it may hold is reckoned at each connection, against what
// the process holds then, not once when it began to listen.
TEST_CASE("health http: descriptors the process took after the server started are left free too") {
  constexpr rlim_t kLimit = 256;
  constexpr int kKeptFree = 64;
  constexpr int kTakenLater = 60;
  constexpr int kClients = 50;
  // In a child: its descriptor limit is lowered.
  const int status = InChild([&] {
    struct rlimit limit {};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max < kLimit || tazpod::CountOpenDescriptors() > 40) _exit(2);
    limit.rlim_cur = kLimit;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(2);
    HttpLimits limits;
    limits.max_connections = 1000;
    limits.read_timeout = 60s;
    int free_left = 0;
    {
      Harness h(limits);
      std::vector<UniqueFd> taken;
      taken.reserve(kTakenLater);
      for (int i = 0; i < kTakenLater; ++i) taken.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
      std::vector<std::unique_ptr<Client>> clients;
      clients.reserve(kClients);
      for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<Client>(h.port()));
      const auto give_up = std::chrono::steady_clock::now() + kPatience;
      while (h.stats().connections_accepted < kClients && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(5ms);
      if (h.stats().connections_accepted < kClients) _exit(3);
      free_left = static_cast<int>(kLimit) - tazpod::CountOpenDescriptors();
    }
    return free_left >= kKeptFree ? 0 : 100 + free_left;
  });
  INFO("exit 100 + N: N descriptors left free; 2: no setup; 3: connections not accepted");
  CHECK(status == 0);
}

// The server speaks HTTP/1.0 and 1.1 only, and must not answer in a
// version it does not speak (RFC 9110, 6.2).
TEST_CASE("health http: a request in another version of HTTP is a 400 in HTTP/1.1, and closed") {
  Harness h;
  for (const char* version : {"HTTP/2.0", "HTTP/0.9", "HTTP/1.2"}) {
    INFO(version);
    Client c(h.port());
    REQUIRE(c.Send(std::string("GET /healthz ") + version + "\r\nHost: localhost\r\n\r\n"));
    const std::string response = c.ReadResponse();
    INFO(response);
    CHECK(response.starts_with("HTTP/1.1 400 "));
    CHECK(c.ClosedByServer());
  }
}

TEST_CASE("health http: a target in absolute form is routed by its path") {
  Harness h;
  Client c(h.port());
  const std::string authority = "127.0.0.1:" + std::to_string(h.port());
  REQUIRE(c.Send("GET http://" + authority + "/healthz?probe=1 HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
  const std::string response = c.ReadResponse();
  CHECK(StatusOf(response) == 200);
  CHECK(BodyOf(response) == "ok\n");
  REQUIRE(c.Send("GET http://" + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
  CHECK(StatusOf(c.ReadResponse()) == 404);  // its path is "/", which has no route
}

// A new connection whose deadline timer cannot be made (PID 1 out of
// descriptors) is dropped; no connection already open is closed to make
// room for it first.
TEST_CASE("health http: a connection that cannot be made closes no other to make room for it") {
  // In a child: a seccomp filter cannot be taken back.
  const int status = InChild([&] {
    const tazpod::testing::CapturedLog log(tazpod::LogLevel::kDebug);
    if (!log.valid()) _exit(2);
    int code = 0;
    {
      HttpLimits limits;
      limits.max_connections = 2;
      Harness h(limits);
      std::vector<std::unique_ptr<Client>> held;
      for (int i = 0; i < limits.max_connections; ++i) {
        held.push_back(std::make_unique<Client>(h.port()));
        if (!h.WaitForActive(i + 1) || !held.back()->Send("GET /healthz HTTP/1.1\r\n")) _exit(3);
      }
      // On the loop's thread, which makes the connections: a filter holds
      // for the thread that sets it (and those it starts).
      if (!h.OnLoop([] { return tazpod::testing::DenySyscall(SYS_timerfd_create, EMFILE); })) _exit(2);
      Client refused(h.port());
      const auto give_up = std::chrono::steady_clock::now() + kPatience;
      while (log.Text().find("health.http.accept_failed") == std::string::npos &&
             std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(5ms);
      if (log.Text().find("health.http.accept_failed") == std::string::npos) _exit(4);
      // Both held connections are still served.
      for (auto& client : held) {
        if (!client->Send("Host: test\r\n\r\n") || StatusOf(client->ReadResponse()) != 200) code = 10;
      }
      if (h.stats().connections_evicted != 0) code = 11;
    }
    return code;
  });
  INFO("2: no setup; 3: held connections not made; 4: the refusal was not logged; 10: a held connection was "
       "closed; 11: one was evicted");
  CHECK(status == 0);
}

// When not even /proc/self/fd can be opened to count the descriptors
// (EMFILE), none is free: each new connection is served alone, the others
// evicted, rather than PID 1 left with nothing at all.
TEST_CASE("health http: out of descriptors to count them with, a new connection takes the others' places") {
  const int status = InChild([&] {
    int code = 0;
    {
      HttpLimits limits;
      limits.max_connections = 4;
      Harness h(limits);
      std::vector<std::unique_ptr<Client>> held;
      for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<Client>(h.port()));
        if (!h.WaitForActive(i + 1) || !held.back()->Send("GET /healthz HTTP/1.1\r\n")) _exit(3);
      }
      // On the loop's thread, which counts: a filter holds for the thread
      // that sets it.
      if (!h.OnLoop([] { return tazpod::testing::DenySyscall(SYS_openat, EMFILE); })) _exit(2);
      Client probe(h.port());
      if (!probe.Send(Get("/healthz")) || StatusOf(probe.ReadResponse()) != 200) code = 10;
      for (auto& client : held)
        if (!client->ClosedByServer()) code = 11;
      if (h.stats().connections_evicted != 3) code = 12;
    }
    return code;
  });
  INFO("2: no setup; 3: held connections not made; 10: the probe was not answered; 11: a held connection stayed "
       "open; 12: not three evicted");
  CHECK(status == 0);
}
