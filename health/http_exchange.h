// What the health server answers to one request, decided from the parsed
// header alone: no socket, no timer, no event loop. HttpServer's connections
// call it after each header read; the fuzz target (tests/fuzz/http_request.cc)
// drives the same parser and this same function on raw bytes.
//
// The rules (see http_server.h for the limits around them): a header too
// large is 431, a malformed one 400, both closing the connection; only GET
// and HEAD are served (405 otherwise); a request with a body is 413 and
// closes (the body is never read); a known path goes to its handler (a
// handler that throws gives 500), any other to 404. Keep-alive is honoured up
// to the connection's request limit.
#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <map>
#include <string>

namespace tazpod::health {

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;
// Exact paths ("/healthz"); the query string is not part of the key, and a
// target in absolute form ("http://host/healthz") is looked up by its path.
using HttpRoutes = std::map<std::string, HttpHandler, std::less<>>;
using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;

struct HttpAnswer {
  // The header read ended without an HTTP request to answer (the client
  // closed, or the socket failed): close without a response.
  bool close = false;
  bool bad_request = false;  // malformed, oversized, or with a body (stats)
  HttpResponse response;
  bool head = false;  // HEAD: the response's headers only
  unsigned version = 11;
  bool keep_alive = false;
};

// The answer to the header read that ended with `ec` into `parser`.
// `request_number` counts this request on its connection, from 1.
HttpAnswer AnswerRequestHeader(const boost::system::error_code& ec, const HttpRequestParser& parser,
                               const HttpRoutes& routes, int request_number, int max_requests_per_connection);

// The message HttpServer writes for `answer` (Server, Content-Type,
// Cache-Control: no-store, Allow on 405, Content-Length, Connection).
boost::beast::http::response<boost::beast::http::string_body> BuildResponse(HttpAnswer answer);

}  // namespace tazpod::health
