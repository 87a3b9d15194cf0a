// HttpServer: a small HTTP/1.1 server for the health endpoints, on the
// caller's event loop (PID 1's), built on Boost.Beast.
//
// It serves a handful of fixed paths from in-memory state to probes (Docker,
// the kubelet, Prometheus), and it must stay harmless when something else on
// the network floods it. So every resource a client can make it hold is
// bounded:
//   - at most `max_connections` open at once. One more takes the place of
//     the connection that has waited longest on its client (for a request
//     header, to take a reply, or idle between requests): a handful of slow
//     clients that reconnect as soon as they are dropped would otherwise
//     keep every probe out;
//   - a request's header must arrive whole within `read_timeout` and fit in
//     `max_header_bytes` (431 otherwise); a slow-loris client is dropped;
//   - no request may carry a body (413, or 405 for a method other than
//     GET/HEAD), and the body is never read: the connection closes;
//   - a response must be taken by the client within `write_timeout`;
//   - a kept-alive connection serves at most `max_requests_per_connection`
//     requests and waits at most `idle_timeout` for the next one.
// Timers belong to connections: an idle server with no client has no timer
// armed, so it costs PID 1 no wake-ups.
//
// Routes are exact paths (the query string is ignored). A handler answers
// synchronously from memory and must not block; only GET and HEAD reach it.
// Unknown paths get 404, other methods 405 (the whole decision, without
// sockets, is in http_exchange.h).
//
// Errors never leave the loop: a failing connection (including a handler
// that throws, which gets a 500) is closed and the server goes on; Start()
// reports what went wrong as a value. Not thread-safe: use it from the
// thread that runs the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "health/http_exchange.h"

namespace tazpod::health {

struct HttpLimits {
  int max_connections = 16;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  int max_requests_per_connection = 100;
  // From accepting a connection (or from the first byte of a kept-alive
  // connection's next request) to the end of that request's header.
  std::chrono::milliseconds read_timeout{5000};
  // Between the end of a response and the first byte of the next request.
  std::chrono::milliseconds idle_timeout{10000};
  // For the client to take a whole response.
  std::chrono::milliseconds write_timeout{5000};
  // Descriptors left free under RLIMIT_NOFILE, whatever max_connections
  // says: the server runs inside PID 1, whose pidfds, control socket and
  // vault helpers need descriptors too, and a port open to the network
  // must not be a way to take them all. Each connection holds two (its
  // socket and its deadline's timer); fewer connections are kept open when
  // that many would leave less than this free, one at least. 0: no floor.
  unsigned long descriptors_kept_free = 64;
};

// What the server has refused or dropped, for /metrics. Counts since Start().
struct HttpServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_evicted = 0;  // closed to make room for a new one
  std::uint64_t requests = 0;             // requests answered (the reply taken whole), any status
  std::uint64_t timeouts = 0;             // connections dropped by a read, write or linger deadline (not idle)
  std::uint64_t bad_requests = 0;         // malformed, oversized or with a body
};

class HttpServer {
 public:
  using Handler = HttpHandler;

  // `address`: an IPv4 or IPv6 literal ("127.0.0.1", "::1", "0.0.0.0");
  // `port` 0 asks the kernel for a free port (see port()).
  HttpServer(boost::asio::io_context& io, std::string address, std::uint16_t port,
             HttpLimits limits = {});
  // Closes the listener and every open connection.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Answers GET and HEAD on `path` (exact, e.g. "/healthz") with `handler`.
  // Call before or after Start(); a second call for a path replaces the first.
  void Route(const std::string& path, Handler handler);

  // Binds, listens and starts accepting. Returns an error message ("listen on
  // 127.0.0.1:9090: Address already in use"), or an empty string.
  std::string Start();

  // Closes the listener and every open connection (shutdown). Idempotent.
  void Stop();

  // The bound port, once Start() has succeeded; 0 before.
  std::uint16_t port() const;
  int active_connections() const;
  const HttpServerStats& stats() const;

 private:
  class Impl;
  class Connection;
  // Shared with the connections and the pending handlers, so a connection
  // that outlives the server (its handler already queued) still finds its
  // limits and routes.
  std::shared_ptr<Impl> impl_;
};

}  // namespace tazpod::health
