// A small HTTP/1.1 server on Boost.Beast with C++20 coroutines: routes with
// path parameters ("/v1/events/{id}"), keep-alive, a body limit (413), an
// idle time-out, JSON errors for 400/404/405/413/500, and a two-phase stop.
//
// Beast stays out of this header (pimpl), so the routes' translation units
// compile fast. Handlers run on the server's thread and may answer from any
// thread, later: the responder hands the answer back to the connection's
// strand, and stays safe to call after the server has stopped.
//
// Thread safety: route() before start(); start() and stop() from one thread.
#pragma once

#include "engine/core/result.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sunbeam {

struct HttpRequest {
  std::string method;
  std::string path;                                   // decoded
  std::string query;                                  // raw
  std::map<std::string, std::string> query_params;    // decoded
  std::map<std::string, std::string> path_params;     // decoded
  std::map<std::string, std::string> headers;         // lower-case names
  std::string body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpResponder = std::function<void(HttpResponse)>;  // call exactly once, from any thread
using HttpHandler = std::function<void(HttpRequest, HttpResponder)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::size_t max_body_bytes = 4 << 20;
  std::chrono::milliseconds idle_timeout{30000};
  int threads = 1;
};

// The JSON error body every endpoint uses: {"error":{"code","message","field"}}.
HttpResponse http_error(unsigned status, std::string code, std::string message, std::string field = {});

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void route(std::string method, std::string pattern, HttpHandler handler);
  Result<std::uint16_t> start();  // the bound port
  std::uint16_t port() const;
  // Stops accepting, lets requests in flight answer within `grace`, then closes everything.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sunbeam
