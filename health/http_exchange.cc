#include "health/http_exchange.h"

#include <exception>
#include <string_view>
#include <utility>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "common/log.h"

namespace tazpod::health {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

HttpResponse PlainResponse(unsigned status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

// The path of a request target: origin form ("/healthz?x"), or absolute
// form ("http://host:port/healthz"), which some proxies send and every
// HTTP/1.1 server must take (RFC 9112, 3.2.2).
std::string_view PathOf(std::string_view target) {
  if (const auto scheme_end = target.find("://"); scheme_end != std::string_view::npos && target[0] != '/') {
    const auto path_start = target.find('/', scheme_end + 3);
    target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  return target.substr(0, target.find('?'));
}

HttpResponse Route(const HttpRoutes& routes, std::string_view target) {
  const std::string_view path = PathOf(target);
  auto it = routes.find(path);
  if (it == routes.end()) return PlainResponse(404, "not found");
  try {
    return it->second();
  } catch (const std::exception& e) {
    Log(LogLevel::kWarn, "health.http.handler_failed", {{"path", std::string(path)}, {"error", e.what()}});
    return PlainResponse(500, "internal error");
  }
}

}  // namespace

HttpAnswer AnswerRequestHeader(const error_code& ec, const HttpRequestParser& parser, const HttpRoutes& routes,
                               int request_number, int max_requests_per_connection) {
  HttpAnswer answer;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    answer.bad_request = true;
    answer.response = PlainResponse(431, "request header too large");
    return answer;
  }
  if (ec == http::error::end_of_stream || (ec && !IsHttpParseError(ec))) {
    answer.close = true;
    return answer;
  }
  if (ec) {
    answer.bad_request = true;
    answer.response = PlainResponse(400, "bad request");
    return answer;
  }
  const auto& request = parser.get();
  // The body, if any, is never read: the connection must close after the answer.
  const bool has_body = !parser.is_done();
  answer.head = request.method() == http::verb::head;
  answer.bad_request = has_body;
  if (request.method() != http::verb::get && !answer.head) {
    answer.response = PlainResponse(405, "method not allowed");
  } else if (has_body) {
    answer.response = PlainResponse(413, "a request body is not accepted");
  } else {
    answer.response = Route(routes, request.target());
  }
  answer.version = request.version();  // 1.0 or 1.1: the parser refuses any other
  answer.keep_alive = !has_body && request.keep_alive() && request_number < max_requests_per_connection;
  return answer;
}

http::response<http::string_body> BuildResponse(HttpAnswer answer) {
  http::response<http::string_body> response(static_cast<http::status>(answer.response.status), answer.version);
  response.set(http::field::server, "tazpod");
  response.set(http::field::content_type, answer.response.content_type);
  // A health answer is about now; a cache in between must not replay it.
  response.set(http::field::cache_control, "no-store");
  if (answer.response.status == 405) response.set(http::field::allow, "GET, HEAD");
  response.content_length(answer.response.body.size());
  if (!answer.head) response.body() = std::move(answer.response.body);
  response.keep_alive(answer.keep_alive);
  return response;
}

}  // namespace tazpod::health
