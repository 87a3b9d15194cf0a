// Fuzz target: what the health endpoint does with the bytes of a connection
// (health/http_exchange.h), through Beast's own header reader and parser, set
// up as HttpServer sets them up (header limit, buffer size). Proves that no
// byte sequence crashes, hangs or leaks the parse, the routing or the
// response, that a request's answer is one the server documents, and that
// only GET and HEAD of a known path reach a handler.
//
// The first input byte sets how many bytes each read returns (1..256), so
// headers split across reads are exercised; the rest is what the client
// sent. Pipelined requests are answered in turn while the connection stays
// alive, as a kept-alive connection would.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "common/log.h"
#include "health/http_exchange.h"
#include "health/http_server.h"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace tazpod::health;

namespace {

// A SyncReadStream over the input: at most `chunk` bytes per read, then
// end of stream, like a client that sent this and half-closed.
class InputStream {
 public:
  InputStream(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (rest_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const std::size_t n = asio::buffer_copy(buffers, asio::buffer(rest_.data(), std::min(chunk_, rest_.size())));
    rest_.remove_prefix(n);
    return n;
  }

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
  std::size_t chunk_;
};

const HttpRoutes& Routes() {
  static const HttpRoutes routes = {
      {"/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; }},
      {"/metrics", [] { return HttpResponse{200, "text/plain; version=0.0.4", "tazpod_up 1\n"}; }},
      {"/throws", []() -> HttpResponse { throw std::runtime_error("handler failed"); }},
  };
  return routes;
}

bool Documented(unsigned status) {
  switch (status) {
    case 200: case 400: case 404: case 405: case 413: case 431: case 500: return true;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The throwing handler's warning would be one line per run.
  static const bool quiet = (tazpod::ConfigureLog(tazpod::LogFormat::kText, tazpod::LogLevel::kError), true);
  (void)quiet;
  if (size < 1) return 0;
  const HttpLimits limits;
  InputStream stream(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1),
                     std::size_t{data[0]} + 1);
  boost::beast::flat_buffer buffer(2 * limits.max_header_bytes);
  for (int number = 1; number <= limits.max_requests_per_connection; ++number) {
    HttpRequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    boost::system::error_code ec;
    http::read_header(stream, buffer, parser, ec);
    HttpAnswer answer = AnswerRequestHeader(ec, parser, Routes(), number, limits.max_requests_per_connection);
    if (answer.close) break;
    if (!Documented(answer.response.status)) std::abort();
    if (answer.response.status == 200 && parser.get().method() != http::verb::get &&
        parser.get().method() != http::verb::head)
      std::abort();
    const bool keep_alive = answer.keep_alive;
    if (keep_alive && (ec || answer.bad_request)) std::abort();  // an error always closes
    std::ostringstream wire;
    wire << BuildResponse(std::move(answer));
    if (wire.str().rfind("HTTP/1.", 0) != 0) std::abort();
    if (!keep_alive) break;
  }
  return 0;
}
