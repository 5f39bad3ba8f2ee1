#include "engine/net/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace sunbeam {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

HttpResponse http_error(unsigned status, std::string code, std::string message, std::string field) {
  HttpResponse r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{
      {"error", boost::json::object{{"code", std::move(code)}, {"message", std::move(message)}, {"field", std::move(field)}}}});
  return r;
}

namespace {

struct Route {
  std::string method;
  std::vector<std::string> segments;  // "{name}" captures one segment
  HttpHandler handler;
};

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern == "/") return out;  // the root has no segment, as Boost.URL sees "/"
  std::size_t start = 1;
  while (start <= pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    out.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool match(const Route& r, const std::vector<std::string>& segments, std::map<std::string, std::string>& params) {
  if (r.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& p = r.segments[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (segments[i].empty()) return false;
      found[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

// Where a handler's answer goes. The handler may answer from any thread,
// even after the server stopped: `owner` is cleared at stop, under the lock,
// so a late answer is dropped instead of touching a dead io_context.
struct Reply {
  std::mutex mutex;
  std::optional<HttpResponse> response;
  asio::steady_timer* wakeup = nullptr;  // the waiting coroutine's timer, while it waits
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  std::vector<Route> routes;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::uint16_t port = 0;
  bool started = false;
  // Cleared at stop; responders check it before posting.
  std::shared_ptr<std::mutex> alive_mutex = std::make_shared<std::mutex>();
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  explicit Impl(HttpServerOptions o) : options(std::move(o)) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  asio::awaitable<HttpResponse> dispatch(http::request<http::string_body>& req);
};

namespace {

http::response<http::string_body> to_beast(const HttpResponse& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "sunbeam");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

asio::awaitable<HttpResponse> HttpServer::Impl::dispatch(http::request<http::string_body>& req) {
  HttpRequest request;
  request.method = std::string(req.method_string());
  const auto target = boost::urls::parse_origin_form(std::string_view(req.target()));
  if (!target) co_return http_error(400, "bad_request", "the request target is not a valid path");
  request.path = target->path();
  request.query = target->encoded_query();
  for (auto param : target->params()) request.query_params[param.key] = param.value;
  std::vector<std::string> segments;
  for (auto s : target->segments()) segments.push_back(s);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = std::move(req.body());

  const Route* route = nullptr;
  std::string allowed;
  for (const auto& r : routes) {
    std::map<std::string, std::string> params;
    if (!match(r, segments, params)) continue;
    if (r.method == request.method) {
      route = &r;
      request.path_params = std::move(params);
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + r.method;
  }
  if (!route) {
    if (allowed.empty()) co_return http_error(404, "not_found", "no such endpoint: " + request.path);
    auto r = http_error(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allowed);
    co_return r;
  }

  // Wait on a timer that the responder cancels: the answer may come from another thread.
  auto reply = std::make_shared<Reply>();
  asio::steady_timer wakeup(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  reply->wakeup = &wakeup;
  auto executor = co_await asio::this_coro::executor;
  HttpResponder respond = [reply, executor, alive = alive, alive_mutex = alive_mutex](HttpResponse r) {
    std::lock_guard live(*alive_mutex);
    if (!*alive) return;  // the server stopped: nobody is waiting
    {
      std::lock_guard lock(reply->mutex);
      if (reply->response) return;  // answered already
      reply->response = std::move(r);
    }
    asio::post(executor, [reply] {
      std::lock_guard lock(reply->mutex);
      if (reply->wakeup) reply->wakeup->cancel();
    });
  };
  try {
    route->handler(std::move(request), std::move(respond));
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", route->method, std::string(req.target()), e.what());
    std::lock_guard lock(reply->mutex);
    reply->wakeup = nullptr;
    co_return http_error(500, "internal", "internal error; see the engine's log");
  }
  for (;;) {
    {
      std::lock_guard lock(reply->mutex);
      if (reply->response) {
        reply->wakeup = nullptr;
        co_return std::move(*reply->response);
      }
    }
    auto [ec] = co_await wakeup.async_wait(use_tuple);
    (void)ec;  // cancelled by the responder (or by stop, which destroys this frame)
  }
}

asio::awaitable<void> HttpServer::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(options.idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) break;
    if (ec == http::error::body_limit) {
      auto res = to_beast(http_error(413, "too_large", "the request body is over the limit of " +
                                                           std::to_string(options.max_body_bytes) + " bytes"),
                          11, false);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    if (ec) {
      if (ec != asio::error::connection_reset && ec != asio::error::eof) {
        auto res = to_beast(http_error(400, "bad_request", "malformed HTTP request: " + ec.message()), 11, false);
        co_await http::async_write(stream, res, use_tuple);
      }
      break;
    }
    auto req = parser.release();
    ++in_flight;
    stream.expires_never();
    HttpResponse answer = co_await dispatch(req);
    auto res = to_beast(answer, req.version(), req.keep_alive());
    stream.expires_after(options.idle_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    --in_flight;
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      continue;
    }
    auto strand = asio::make_strand(ioc);
    asio::co_spawn(strand, session(tcp::socket(std::move(socket))), asio::detached);
  }
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::route(std::string method, std::string pattern, HttpHandler handler) {
  impl_->routes.push_back(Route{std::move(method), split_pattern(pattern), std::move(handler)});
}

Result<std::uint16_t> HttpServer::start() {
  Impl& s = *impl_;
  const auto& listen = s.options.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error("http_listen", "api.listen \"" + listen + "\" must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return make_error("http_listen", "api.listen: \"" + host + "\" is not an IP address");
  const auto port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  const tcp::endpoint endpoint(address, port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("http_listen", "cannot listen on " + listen + ": " + ec.message());
  s.port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  for (int i = 0; i < std::max(1, s.options.threads); ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  s.started = true;
  return s.port;
}

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (!s.started) return;
  s.started = false;
  // Phase one: no new connections; requests in flight may still answer.
  asio::post(s.ioc, [&s] {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
  });
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (s.in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Phase two: late responders find the server gone; everything closes.
  {
    std::lock_guard live(*s.alive_mutex);
    *s.alive = false;
  }
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

}  // namespace sunbeam
