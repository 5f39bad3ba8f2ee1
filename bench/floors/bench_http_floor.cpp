// bench_http_floor: the bare-HTTP floor. One thread, libcurl's multi
// interface, C keep-alive connections posting sms_http-shaped JSON bodies to
// a gateway (bench_gateway) as fast as it answers: what an SMS fan-out costs
// with nothing of sunbeam around the HTTP client.
//
//   bench_http_floor --url URL --requests N [--concurrency C] [--body-file F]
//
// Each request is what sunbeam's sms_http connector sends with its standard
// body and no sender, as the bench configures it
// (connectors/sms_http/json_body_template.cpp):
//   POST, Content-Type and Accept application/json,
//   {"id":"<32 hex: a delivery id>","to":"+86138…","text":"<70 Chinese
//   characters: one UCS-2 SMS part>"}
// with a distinct id per request (distinct across runs too). --body-file F: F holds the body instead,
// with `{id}` where each request's distinct id goes.
// The handles are set up as the connector's TransferPool does: libcurl's
// defaults plus CURLOPT_NOSIGNAL (with a time-out, libcurl otherwise installs
// signal handlers per transfer) and a 10 s time-out; the multi keeps C
// connections per host (CURLMOPT_MAX_HOST_CONNECTIONS and MAXCONNECTS = C),
// and a finished handle is handed the next request at once, so C requests are
// always in flight.
//
// Last stdout line: {"requests","ok","failed","concurrency","body_bytes",
// "seconds","rate","cpu_seconds"}; rate = ok / seconds. Any request not
// answered 200 makes the run fail (exit 1): a floor with errors is no floor.
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  long requests = 0;
  int concurrency = 32;
  std::string body_file;
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A body with `{id}` in it, filled per request with a distinct 32-hex-digit id.
class BodyMaker {
 public:
  // `salt` makes this run's ids its own: a gateway kept across runs sees no duplicates.
  BodyMaker(std::string text, std::uint64_t salt) : salt_(salt) {
    const auto at = text.find("{id}");
    if (at == std::string::npos) throw std::runtime_error("the body has no {id} for the request's id");
    before_ = text.substr(0, at);
    after_ = text.substr(at + 4);
  }
  static std::string standard() {
    // 70 characters: one UCS-2 part, as a market summary SMS is written to fit.
    return R"({"id":"{id}","to":"+8613800138000","text":"【测试证券】沪指收涨0.8%，报3125.42点；深成指跌0.1%，创业板指涨0.5%。)"
           R"(半导体、券商领涨，北向资金净流入35亿元。回TD退订"})";
  }
  void fill(std::string& out, std::uint64_t n) const {
    static const char* hex = "0123456789abcdef";
    out.assign(before_);
    const std::uint64_t halves[2] = {mix(n ^ salt_), mix(n ^ ~salt_)};
    for (std::uint64_t h : halves)
      for (int k = 0; k < 16; ++k) out.push_back(hex[(h >> (60 - 4 * k)) & 15]);
    out.append(after_);
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // splitmix64: ids that look like hashes
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t salt_;
  std::string before_, after_;
};

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// One connection's worth of request: its handle and the body it is sending.
struct Slot {
  CURL* easy = nullptr;
  std::string body;
};

curl_slist* request_headers() {
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  return curl_slist_append(h, "Accept: application/json");
}

void prepare(Slot& s, const Options& o, curl_slist* headers) {
  curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s.easy, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(s.easy, CURLOPT_POST, 1L);
  curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(s.easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
}

void set_body(Slot& s) {
  curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.data());
  curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
}

int run(const Options& o) {
  std::string text = BodyMaker::standard();
  if (!o.body_file.empty()) {
    std::ifstream in(o.body_file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read --body-file " + o.body_file);
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
  }
  const BodyMaker bodies(text, (std::uint64_t(std::random_device{}()) << 32) ^ std::random_device{}());

  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_slist* headers = request_headers();

  // One request first, alone: an unreachable or wrong URL fails here, clearly.
  {
    Slot probe{curl_easy_init(), {}};
    prepare(probe, o, headers);
    bodies.fill(probe.body, ~0ULL);
    set_body(probe);
    const CURLcode rc = curl_easy_perform(probe.easy);
    long status = 0;
    curl_easy_getinfo(probe.easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(probe.easy);
    if (rc != CURLE_OK) throw std::runtime_error("POST " + o.url + ": " + curl_easy_strerror(rc));
    if (status != 200) throw std::runtime_error("POST " + o.url + " answered " + std::to_string(status) + ", not 200");
  }

  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, long(o.concurrency));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long(o.concurrency));
  const int slots_n = int(std::min<long>(o.concurrency, o.requests));
  std::vector<Slot> slots(static_cast<std::size_t>(slots_n));

  long started = 0, ok = 0, failed = 0;
  std::string first_failure;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    prepare(s, o, headers);
    bodies.fill(s.body, std::uint64_t(started++));
    set_body(s);
    curl_multi_add_handle(multi, s.easy);
  }
  auto last_progress = t0;
  while (ok + failed < o.requests) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (m->data.result == CURLE_OK && status == 200) {
        ++ok;
      } else if (failed++ == 0) {
        first_failure = m->data.result != CURLE_OK ? curl_easy_strerror(m->data.result)
                                                   : "answered " + std::to_string(status);
      }
      curl_multi_remove_handle(multi, s->easy);
      if (started < o.requests) {  // the same handle, so the same kept-alive connection
        bodies.fill(s->body, std::uint64_t(started++));
        set_body(*s);
        curl_multi_add_handle(multi, s->easy);
      }
    }
    const auto now = Clock::now();
    if (now - last_progress >= std::chrono::seconds(5)) {
      std::fprintf(stderr, "bench_http_floor: %ld of %ld answered\n", ok + failed, o.requests);
      last_progress = now;
    }
    if (ok + failed < o.requests) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;

  for (auto& s : slots) curl_easy_cleanup(s.easy);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  curl_global_cleanup();

  if (failed) {
    std::fprintf(stderr, "bench_http_floor: %ld of %ld requests failed (first: %s)\n", failed, o.requests,
                 first_failure.c_str());
    return 1;
  }
  std::string sample;
  bodies.fill(sample, 0);
  std::printf(
      "{\"requests\": %ld, \"ok\": %ld, \"failed\": %ld, \"concurrency\": %d, \"body_bytes\": %zu, "
      "\"seconds\": %.3f, \"rate\": %.0f, \"cpu_seconds\": %.3f}\n",
      o.requests, ok, failed, o.concurrency, sample.size(), seconds, double(ok) / seconds, cpu);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"bench_http_floor: libcurl multi posting sms_http-shaped bodies over keep-alive connections"};
  app.add_option("--url", o.url, "where to POST, e.g. http://127.0.0.1:PORT/sms")->required();
  app.add_option("--requests", o.requests, "requests to send")->required()->check(CLI::Range(1L, 1'000'000'000L));
  app.add_option("--concurrency", o.concurrency, "connections (requests in flight)")->check(CLI::Range(1, 10000));
  app.add_option("--body-file", o.body_file, "body to send, with {id} where the distinct id goes");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_http_floor: %s\n", e.what());
    return 1;
  }
}
