#include "health/http_server.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/none.hpp>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/accept_retry.h"
#include "common/descriptors.h"
#include "common/kernel_timer.h"
#include "common/log.h"

namespace tazpod::health {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// After a response that closes the connection, this many unread bytes from
// the client are read and dropped before closing. Closing a socket with
// unread input sends a reset, which can destroy the response before the
// client has read it (a refused body is exactly such unread input).
constexpr std::size_t kMaxLingerBytes = std::size_t{64} * 1024;

// Asio opens sockets without close-on-exec; PID 1 forks and execs, and a
// listening socket inherited by a user's shell would keep the port bound.
bool SetCloseOnExec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0; }

std::string Describe(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) return "[" + address + "]:" + std::to_string(endpoint.port());
  return address + ":" + std::to_string(endpoint.port());
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::string address, std::uint16_t port, HttpLimits limits_in)
      : limits(limits_in), address_(std::move(address)), port_(port), acceptor_(io), accept_retry_(io, "health.http.accept_failed") {}

  std::string Start();
  void Stop();
  std::uint16_t bound_port() const { return bound_port_; }

  // Read by the connections.
  const HttpLimits limits;
  HttpRoutes routes;
  HttpServerStats stats;
  std::unordered_set<Connection*> open;  // every connection not yet closed

 private:
  void Accept();
  // The open connection that has waited longest on its client; null only
  // when none is open.
  Connection* LongestWaiting() const;
  // How many connections may be open, `newest` the socket just accepted
  // (its connection made, and in `open`): max_connections, or fewer if
  // that many would leave less than descriptors_kept_free under
  // RLIMIT_NOFILE, beside what the rest of the process holds now. Never
  // less than one, so that a probe is answered.
  std::size_t ConnectionCap(int newest) const;
  void OnAccept(const error_code& ec, tcp::socket socket);
  // Serves the accepted `socket`, making room for it, or closes it.
  void Admit(tcp::socket socket);
  std::function<void()> AcceptAgain();

  std::string address_;
  std::uint16_t port_;
  std::uint16_t bound_port_ = 0;
  // Descriptors the process held when it began to listen, at most (the
  // listening socket's number, plus one): the least the rest of it needs.
  long descriptors_before_ = 0;
  tcp::acceptor acceptor_;
  AcceptRetry accept_retry_;  // while accept(2) fails for good
  bool accepting_ = false;
};

// One client: read a request header, answer, and either wait for the next
// request (keep-alive) or close. Every step that waits on the client runs
// under the deadline timer; the timer closing the socket ends whatever was
// pending.
class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Impl> server, tcp::socket socket)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        deadline_(std::in_place, socket_.get_executor()),
        // Room for one whole header plus the start of a pipelined next one;
        // the parser's header limit refuses a longer header first.
        buffer_(2 * server_->limits.max_header_bytes) {
    server_->open.insert(this);
  }

  ~Connection() { server_->open.erase(this); }

  void Start() { ReadRequest(); }

  // Since when it waits on its client: for a request, to take a reply (its
  // write stalls when the client reads nothing), or idle after one. The
  // server answers at once, so this is always set when a new connection
  // needs room: any connection may be evicted, none can hold its place.
  std::optional<std::chrono::steady_clock::time_point> waiting_since() const { return waiting_since_; }

  // Idempotent; pending operations complete with an error and release the
  // connection. Both its descriptors close now, not when the last of those
  // completions has run: a flood of new connections, each closing an old
  // one, would otherwise hold the old ones' descriptors meanwhile.
  void Close() {
    if (closed_) return;
    closed_ = true;
    server_->open.erase(this);
    deadline_.reset();  // its pending wait completes with operation_aborted
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  // What the connection waits for, which decides the deadline that ends it.
  enum class Phase { kRead, kWrite, kIdle, kLinger };

  static const char* PhaseName(Phase phase) {
    switch (phase) {
      case Phase::kRead: return "read";
      case Phase::kWrite: return "write";
      case Phase::kIdle: return "idle";
      case Phase::kLinger: return "linger";
    }
    return "unknown";
  }

  void ArmDeadline(std::chrono::milliseconds timeout) {
    deadline_->expires_after(timeout);  // cancels the wait of the previous phase
    deadline_->async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      // The wait may have been queued just as a new phase re-armed the timer.
      if (self->deadline_->expiry() > std::chrono::steady_clock::now()) return;
      // A kept-alive connection left idle ends so by design (Prometheus
      // keeps its scrape connection open between scrapes): counted, it
      // would make the timeouts of misbehaving clients unreadable.
      if (self->phase_ != Phase::kIdle) ++self->server_->stats.timeouts;
      Log(LogLevel::kDebug, "health.http.timeout", {{"phase", PhaseName(self->phase_)}});
      self->Close();
    });
  }

  void ReadRequest() {
    phase_ = Phase::kRead;
    WaitOnClient();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    // No body is ever read (a request with one is answered 413 or 405, and
    // the connection closed): its declared size must not fail the header
    // as Beast's default 1 MiB limit would, with a 400.
    parser_->body_limit(boost::none);
    ArmDeadline(server_->limits.read_timeout);
    http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->OnHeader(ec);
    });
  }

  void OnHeader(const error_code& ec) {
    if (closed_) return;
    try {
      HttpAnswer answer = AnswerRequestHeader(ec, *parser_, server_->routes, ec ? requests_ : ++requests_,
                                              server_->limits.max_requests_per_connection);
      if (answer.close) return Close();
      if (answer.bad_request) ++server_->stats.bad_requests;
      Respond(std::move(answer));
    } catch (const std::exception& e) {
      // An allocation failed: this connection ends, the loop goes on.
      Log(LogLevel::kWarn, "health.http.failed", {{"error", e.what()}});
      Close();
    }
  }

  // Marks the start of a wait on the client, unless one is under way: the
  // idle wait for a request and the read of it count as one wait. Each
  // response written ends it, so a pipelined request's wait starts then.
  void WaitOnClient() {
    if (!waiting_since_) waiting_since_ = std::chrono::steady_clock::now();
  }

  void Respond(HttpAnswer answer) {
    phase_ = Phase::kWrite;
    waiting_since_ = std::chrono::steady_clock::now();
    const bool keep_alive = answer.keep_alive;
    response_.emplace(BuildResponse(std::move(answer)));
    ArmDeadline(server_->limits.write_timeout);
    http::async_write(socket_, *response_, [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      ++self->server_->stats.requests;
      self->waiting_since_.reset();
      if (keep_alive) return self->WaitForNextRequest();
      self->LingerThenClose();
    });
  }

  // Keep-alive: the next request gets a fresh read deadline from its first
  // byte on; until then the shorter-lived idle timeout applies.
  void WaitForNextRequest() {
    if (buffer_.size() > 0) return ReadRequest();  // pipelined: already here
    phase_ = Phase::kIdle;
    WaitOnClient();
    ArmDeadline(server_->limits.idle_timeout);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->ReadRequest();
    });
  }

  // Tells the client we are done, then drops what it still sends until it
  // closes too, up to a byte count and the read deadline.
  void LingerThenClose() {
    phase_ = Phase::kLinger;
    WaitOnClient();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    ArmDeadline(server_->limits.read_timeout);
    Discard();
  }

  void Discard() {
    socket_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->closed_) return;
      self->lingered_ += n;
      if (ec || self->lingered_ > kMaxLingerBytes) return self->Close();
      self->Discard();
    });
  }

  std::shared_ptr<Impl> server_;
  tcp::socket socket_;
  std::optional<KernelTimer> deadline_;  // there until Close()
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> scratch_{};
  Phase phase_ = Phase::kRead;
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;
  int requests_ = 0;
  std::size_t lingered_ = 0;
  bool closed_ = false;
};

std::string HttpServer::Impl::Start() {
  if (accepting_) return "already listening on port " + std::to_string(bound_port_);
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(address_, ec);
  if (ec) return "invalid listen address \"" + address_ + "\": " + ec.message();
  const tcp::endpoint endpoint(address, port_);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return "socket for " + Describe(endpoint) + ": " + ec.message();
  if (!SetCloseOnExec(acceptor_.native_handle())) {
    error_code ignored;
    acceptor_.close(ignored);
    return "fcntl(FD_CLOEXEC) on the listening socket: " + std::string(std::strerror(errno));
  }
  // Lets a restarted PID 1 bind while old connections sit in TIME_WAIT; two
  // live listeners on one port are still refused (EADDRINUSE).
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    bound_port_ = 0;
    return "listen on " + Describe(endpoint) + ": " + ec.message();
  }
  accepting_ = true;
  descriptors_before_ = acceptor_.native_handle() + 1;
  Log(LogLevel::kInfo, "health.http.listen", {{"address", address.to_string()}, {"port", bound_port_}});
  Accept();
  return "";
}

void HttpServer::Impl::Stop() {
  accepting_ = false;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.Cancel();
  // Close() removes a connection from `open`: walk a copy.
  const std::vector<Connection*> connections(open.begin(), open.end());
  for (Connection* connection : connections) connection->Close();
}

HttpServer::Connection* HttpServer::Impl::LongestWaiting() const {
  Connection* oldest = nullptr;
  for (Connection* c : open)
    if (c->waiting_since() && (!oldest || *c->waiting_since() < *oldest->waiting_since())) oldest = c;
  return oldest;
}

std::size_t HttpServer::Impl::ConnectionCap(int newest) const {
  const auto configured = static_cast<std::size_t>(limits.max_connections);
  struct rlimit limit {};
  if (limits.descriptors_kept_free == 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return configured;
  // What the rest of the process holds now, besides this server's
  // connections, the one just accepted among them (each is its socket and
  // its deadline's timerfd): PID 1 opens more as it works (control
  // connections, the sessions' pidfds, a helper's pipes), and those must
  // not be left short. Counted, since the numbers have holes where
  // connections were closed; without /proc, every number up to `newest` is
  // taken (the kernel gives out the lowest free one), its timer's too, and
  // the process held at least what it did when the server began to listen.
  const long ours = 2 * static_cast<long>(open.size());
  const long counted = CountOpenDescriptors();
  // Not even the directory could be opened for the count: none is free.
  if (counted < 0 && (errno == EMFILE || errno == ENFILE)) return 1;
  const long others = counted >= 0 ? counted - ours : std::max(descriptors_before_, static_cast<long>(newest) + 2 - ours);
  const long room = static_cast<long>(limit.rlim_cur) - std::max(others, 0L) -
                    static_cast<long>(limits.descriptors_kept_free);
  return std::clamp<std::size_t>(room > 2 ? static_cast<std::size_t>(room / 2) : 1, 1, configured);
}

void HttpServer::Impl::Accept() {
  if (!accepting_) return;  // a retry that comes after Stop()
  acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    self->OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(const error_code& ec, tcp::socket socket) {
  if (!accepting_) return;  // stopped; `socket`, if any, closes here
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    return accept_retry_.Failed(ec.message(), AcceptAgain());
  }
  accept_retry_.Succeeded();
  // Whatever this throws (an allocation), accepting goes on: it is what
  // keeps the probes answered.
  try {
    Admit(std::move(socket));
    Accept();
  } catch (const std::exception& e) {
    accept_retry_.Failed(e.what(), AcceptAgain());
  }
}

std::function<void()> HttpServer::Impl::AcceptAgain() {
  return [self = shared_from_this()] { self->Accept(); };
}

void HttpServer::Impl::Admit(tcp::socket socket) {
  if (!SetCloseOnExec(socket.native_handle())) {
    Log(LogLevel::kWarn, "health.http.accept_failed", {{"error", std::string("fcntl(FD_CLOEXEC): ") + std::strerror(errno)}});
    error_code ignored;
    socket.close(ignored);
    return;
  }
  const int newest = socket.native_handle();
  // Made first: should its timer not be made (out of descriptors), it
  // throws before any other connection was closed to make room for it.
  const auto connection = std::make_shared<Connection>(shared_from_this(), std::move(socket));
  // Over the limit, the connections that have waited longest on their
  // clients make room: one, or more when the rest of the process has taken
  // descriptors since. Every open one waits on its client (handlers answer
  // at once), so there is always one; the new one waits on nothing yet.
  const std::size_t cap = ConnectionCap(newest);
  while (open.size() > cap) {
    Connection* oldest = LongestWaiting();
    if (!oldest) break;
    ++stats.connections_evicted;
    const bool configured = static_cast<int>(open.size()) > limits.max_connections;
    Log(LogLevel::kDebug, "health.http.evicted", {{"reason", configured ? "too_many_connections" : "too_few_descriptors"}});
    oldest->Close();
  }
  ++stats.connections_accepted;
  connection->Start();
}

HttpServer::HttpServer(asio::io_context& io, std::string address, std::uint16_t port, HttpLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(address), port, limits)) {}

HttpServer::~HttpServer() {
  // Stop() throws only if memory runs out or asio fails to cancel a timer.
  // Neither may escape a destructor (that would terminate PID 1), and a
  // destructor has no one to tell.
  try {
    impl_->Stop();
  } catch (...) {
  }
}

void HttpServer::Route(const std::string& path, Handler handler) { impl_->routes[path] = std::move(handler); }

std::string HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

std::uint16_t HttpServer::port() const { return impl_->bound_port(); }

int HttpServer::active_connections() const { return static_cast<int>(impl_->open.size()); }

const HttpServerStats& HttpServer::stats() const { return impl_->stats; }

}  // namespace tazpod::health
