// bench_gateway: a fast stand-in HTTP SMS gateway for the benchmarks. It keeps
// the wire contract of the tests' stand-in (tests/support/gateway_standin.py),
// which is far too slow to measure against, and drops its fault injection and
// receipts (benchmarks measure the happy path):
//
//   bench_gateway [--port P] [--threads N] [--latency-ms N] [--lifetime S]
//                 [--trace SUBSTRING --trace-file FILE]
//
// Binds 127.0.0.1 only; its first stdout line is `listening on 127.0.0.1:PORT`.
// HTTP/1.1 keep-alive, any number of connections, N threads on one io_context.
//
// Messages: a POST to any path not starting with `/_`, with a JSON object body
// carrying a string "id" (the sms_http connector's delivery id), is answered
// 200 {"message_id":"gw-N"} (N from 1); any other body gets 400. Counted:
// requests (every message POST), accepted, duplicates (an "id" accepted
// before; ids are kept exactly), bad_request, and the Unix time of the first
// and last accept. --latency-ms holds each message's answer on a timer (the
// thread serves others meanwhile). --trace: each accepted body containing
// SUBSTRING appends `<unix seconds.µs> <id>` to FILE (buffered; flushed every
// 100 ms and at exit), e.g. to time the urgent messages of a scenario.
//
// Control: GET /_stats (the counters as JSON), POST /_reset (all zeroed, the
// ids forgotten; answers the zeroed counters). SIGTERM/SIGINT or the end of
// --lifetime (default 3600 s, so a forgotten one goes away): exit 0 after
// flushing the trace.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The ids accepted so far, kept exactly (a benchmark's duplicate count must
// not be a guess): the bytes in an arena, views of them in a flat hash set.
// About 50 bytes per 32-character id, so ten million fit in half a GiB.
// Not thread-safe: the Tally's lock guards it.
class AcceptedIds {
 public:
  // True when `id` is new (and now kept).
  bool insert(std::string_view id) {
    if (ids_.contains(id)) return false;
    auto* bytes = static_cast<char*>(arena_.allocate(id.size(), 1));
    std::copy(id.begin(), id.end(), bytes);
    ids_.insert(std::string_view(bytes, id.size()));
    return true;
  }
  void clear() {
    ids_ = {};
    arena_.release();
  }

 private:
  std::pmr::monotonic_buffer_resource arena_{1 << 20};
  boost::unordered_flat_set<std::string_view> ids_;
};

// Lines for --trace, buffered in memory and written by flush(). Thread-safe.
class TraceFile {
 public:
  TraceFile(std::string needle, std::FILE* file) : needle_(std::move(needle)), file_(file) {}
  ~TraceFile() {
    flush();
    if (file_) std::fclose(file_);
  }
  bool wants(std::string_view body) const { return file_ && body.find(needle_) != std::string_view::npos; }
  void add(double at, std::string_view id) {
    char stamp[32];
    const int n = std::snprintf(stamp, sizeof stamp, "%.6f ", at);
    std::lock_guard lock(mutex_);
    pending_.append(stamp, static_cast<std::size_t>(n)).append(id).push_back('\n');
  }
  void flush() {
    std::string out;
    {
      std::lock_guard lock(mutex_);
      out.swap(pending_);
    }
    if (!file_ || out.empty()) return;
    std::fwrite(out.data(), 1, out.size(), file_);
    std::fflush(file_);
  }

 private:
  std::string needle_;
  std::FILE* file_;
  std::mutex mutex_;
  std::string pending_;
};

// The gateway's counters. Thread-safe: the accept path takes one lock (the id
// set needs it anyway; with one thread it is never contended).
class Tally {
 public:
  void request() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void bad_request() { bad_request_.fetch_add(1, std::memory_order_relaxed); }
  // Counts an accepted message and returns its number (the N of gw-N).
  std::uint64_t accept(std::string_view id, double at) {
    std::lock_guard lock(mutex_);
    if (!ids_.insert(id)) ++duplicates_;
    if (accepted_ == 0) first_accept_ = at;
    last_accept_ = at;
    return ++accepted_;
  }
  boost::json::object snapshot() const {
    std::lock_guard lock(mutex_);
    boost::json::object o;
    o["requests"] = requests_.load();
    o["accepted"] = accepted_;
    o["duplicates"] = duplicates_;
    o["distinct"] = accepted_ - duplicates_;
    o["bad_request"] = bad_request_.load();
    o["connections"] = connections.load();
    o["first_accept"] = accepted_ ? boost::json::value(first_accept_) : boost::json::value(nullptr);
    o["last_accept"] = accepted_ ? boost::json::value(last_accept_) : boost::json::value(nullptr);
    return o;
  }
  void reset() {
    std::lock_guard lock(mutex_);
    requests_ = 0;
    bad_request_ = 0;
    accepted_ = duplicates_ = 0;
    first_accept_ = last_accept_ = 0;
    ids_.clear();
  }

  std::atomic<std::int64_t> connections{0};

 private:
  mutable std::mutex mutex_;
  std::atomic<std::uint64_t> requests_{0}, bad_request_{0};
  std::uint64_t accepted_ = 0, duplicates_ = 0;
  double first_accept_ = 0, last_accept_ = 0;
  AcceptedIds ids_;
};

struct Options {
  unsigned short port = 0;
  int threads = 1;
  int latency_ms = 0;
  double lifetime = 3600;
  std::string trace;
  std::string trace_file;
};

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response answer(const Request& req, http::status status, std::string body) {
  Response res(status, req.version());
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error(const Request& req, http::status status, std::string_view message) {
  return answer(req, status, boost::json::serialize(boost::json::object{{"error", message}}));
}

class Gateway {
 public:
  explicit Gateway(TraceFile& trace) : trace_(trace) {}

  // The answer to one request, and whether it is a message (which --latency-ms delays).
  Response handle(const Request& req, bool& is_message) {
    is_message = false;
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.starts_with("/_")) return control(req, path);
    if (req.method() != http::verb::post) return error(req, http::status::method_not_allowed, "messages are POSTed");
    is_message = true;
    tally.request();
    const auto id = message_id(req.body());
    if (!id) {
      tally.bad_request();
      return error(req, http::status::bad_request, "the body is not a JSON object with a string \"id\"");
    }
    const double at = unix_now();
    const std::uint64_t n = tally.accept(*id, at);
    if (trace_.wants(req.body())) trace_.add(at, *id);
    std::string body = "{\"message_id\":\"gw-";
    body.append(std::to_string(n)).append("\"}");
    return answer(req, http::status::ok, std::move(body));
  }

  Tally tally;

 private:
  // The body's "id" when it is a JSON object with a string "id". Parsed into
  // a stack buffer: no heap allocation for a connector-sized body.
  static std::optional<std::string> message_id(std::string_view body) {
    unsigned char buffer[4096];
    boost::json::monotonic_resource mr(buffer, sizeof buffer);
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec, &mr);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* id = v.get_object().if_contains("id");
    if (!id || !id->is_string()) return std::nullopt;
    return std::string(id->get_string());
  }

  Response control(const Request& req, std::string_view path) {
    if (path == "/_stats" && req.method() == http::verb::get)
      return answer(req, http::status::ok, boost::json::serialize(tally.snapshot()));
    if (path == "/_reset" && req.method() == http::verb::post) {
      tally.reset();
      return answer(req, http::status::ok, boost::json::serialize(tally.snapshot()));
    }
    return error(req, http::status::not_found, "control endpoints: GET /_stats, POST /_reset");
  }

  TraceFile& trace_;
};

// One connection: read a request, answer it, until the peer closes or asks to.
asio::awaitable<void> serve(tcp::socket socket, Gateway& gw, int latency_ms) {
  gw.tally.connections.fetch_add(1, std::memory_order_relaxed);
  beast::flat_buffer buffer;
  asio::steady_timer delay(socket.get_executor());
  for (;;) {
    Request req;
    auto [rec, rn] = co_await http::async_read(socket, buffer, req, use_tuple);
    if (rec) break;  // closed, reset, or not HTTP: nothing to answer
    bool is_message = false;
    Response res = gw.handle(req, is_message);
    if (is_message && latency_ms > 0) {
      delay.expires_after(std::chrono::milliseconds(latency_ms));
      co_await delay.async_wait(use_tuple);
    }
    auto [wec, wn] = co_await http::async_write(socket, res, use_tuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  gw.tally.connections.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Gateway& gw, int latency_ms) {
  auto& ioc = static_cast<asio::io_context&>(acceptor.get_executor().context());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. out of descriptors for a moment: keep serving the others
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket), gw, latency_ms), asio::detached);
  }
}

asio::awaitable<void> flush_every_100ms(TraceFile& trace) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer.async_wait(use_tuple);
    trace.flush();
    if (ec) co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"bench_gateway: a fast stand-in HTTP SMS gateway for the benchmarks (127.0.0.1 only)"};
  app.add_option("--port", o.port, "port to listen on (0: any free one)");
  app.add_option("--threads", o.threads, "threads serving connections")->check(CLI::Range(1, 64));
  app.add_option("--latency-ms", o.latency_ms, "answer each message this many ms late")->check(CLI::Range(0, 600000));
  app.add_option("--lifetime", o.lifetime, "exit after this many seconds")->check(CLI::PositiveNumber);
  auto* trace_opt = app.add_option("--trace", o.trace, "record accepted bodies containing this substring");
  auto* file_opt = app.add_option("--trace-file", o.trace_file, "where --trace appends `<unix s.µs> <id>` lines");
  trace_opt->needs(file_opt);
  file_opt->needs(trace_opt);
  CLI11_PARSE(app, argc, argv);
  if (!o.trace.empty() == o.trace_file.empty()) {
    std::fprintf(stderr, "bench_gateway: --trace needs a non-empty substring and --trace-file\n");
    return 2;
  }

  std::FILE* trace_file = nullptr;
  if (!o.trace_file.empty() && !(trace_file = std::fopen(o.trace_file.c_str(), "a"))) {
    std::perror(("bench_gateway: cannot open --trace-file " + o.trace_file).c_str());
    return 1;
  }
  TraceFile trace(o.trace, trace_file);
  Gateway gw(trace);

  asio::io_context ioc(o.threads);
  tcp::acceptor acceptor(ioc);
  try {
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), o.port);
    acceptor.open(at.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(at);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "bench_gateway: cannot listen on 127.0.0.1:%u: %s\n", unsigned(o.port), e.what());
    return 1;
  }

  asio::co_spawn(ioc, accept_loop(acceptor, gw, o.latency_ms), asio::detached);
  if (trace_file) asio::co_spawn(ioc, flush_every_100ms(trace), asio::detached);

  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  asio::steady_timer lifetime(ioc, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(o.lifetime)));
  auto stop = [&](const char* why) {
    std::fprintf(stderr, "bench_gateway: stopping (%s): %s\n", why,
                 boost::json::serialize(gw.tally.snapshot()).c_str());
    ioc.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) stop("signal");
  });
  lifetime.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) stop("end of --lifetime");
  });

  std::printf("listening on 127.0.0.1:%u\n", unsigned(acceptor.local_endpoint().port()));
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (int i = 1; i < o.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  trace.flush();
  return 0;
}
