// The bare `sendsms` load client: what Kannel does when fed as fast as a
// plain HTTP client can, the baseline of sunbeam's kannel connector.
//
//   kannel_load --url http://127.0.0.1:23013/cgi-bin/sendsms --username U --password P
//               --received FILE [--messages N] [--concurrency C] [--text T]
//               [--from S] [--first-to +8613800000000] [--timeout SECONDS]
//
// Sends N distinct GET sendsms calls (one recipient each, `to` counting up
// from --first-to, the same UTF-8 text as UCS-2: charset=UTF-8&coding=2),
// over C kept-alive connections, then waits until Kannel's fake SMSC logged
// N more `Got message` lines in FILE (its stdout, which scripts/kannel writes
// to received.log): the time is from the first request to the last arrival.
//
// Hand-written libcurl multi rather than sunbeam's TransferPool on purpose:
// the baseline must not share the code it is the baseline of. The same
// library (libcurl) and the same keep-alive and concurrency keep the
// comparison about what sunbeam adds around it.
//
// Progress on stderr; the last stdout line is one JSON object.
#include <curl/curl.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  std::string username;
  std::string password;
  std::string received;
  long messages = 2000;
  int concurrency = 8;
  // One UCS-2 part: 48 UTF-16 units with the signature (a part holds 70).
  std::string text = "【测试证券】王伟您好：沪深交易所元旦休市安排，1月1日至3日休市，4日起照常开市。";
  std::string from = "10690123";
  std::string first_to = "+8613800000000";
  double timeout = 300;
};

[[noreturn]] void usage(int code, const char* error = nullptr) {
  if (error) std::fprintf(stderr, "kannel_load: %s\n", error);
  std::fprintf(code ? stderr : stdout,
               "usage: kannel_load --url SENDSMS_URL --username U --password P --received FILE\n"
               "                   [--messages N (2000)] [--concurrency C (8)] [--text UTF8]\n"
               "                   [--from SENDER (10690123)] [--first-to E164 (+8613800000000)]\n"
               "                   [--timeout SECONDS (300)]\n"
               "Sends N sendsms GETs (distinct recipients, UCS-2) over C kept-alive connections and\n"
               "waits for N more `Got message` lines in FILE (the fake SMSC's output).\n"
               "Last stdout line: JSON {messages, seconds, rate, send_seconds, send_rate, ...}.\n");
  std::exit(code);
}

long parse_long(const char* flag, const char* v, long lo, long hi) {
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (!*v || *end || n < lo || n > hi) {
    std::fprintf(stderr, "kannel_load: %s wants an integer in [%ld, %ld], got \"%s\"\n", flag, lo, hi, v);
    std::exit(2);
  }
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") usage(0);
    if (i + 1 >= argc) usage(2, ("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--url") o.url = v;
    else if (a == "--username") o.username = v;
    else if (a == "--password") o.password = v;
    else if (a == "--received") o.received = v;
    else if (a == "--messages") o.messages = parse_long("--messages", v, 1, 100'000'000);
    else if (a == "--concurrency") o.concurrency = int(parse_long("--concurrency", v, 1, 1024));
    else if (a == "--text") o.text = v;
    else if (a == "--from") o.from = v;
    else if (a == "--first-to") o.first_to = v;
    else if (a == "--timeout") o.timeout = double(parse_long("--timeout", v, 1, 86'400));
    else usage(2, ("unknown flag " + a).c_str());
  }
  if (o.url.empty() || o.username.empty() || o.password.empty() || o.received.empty())
    usage(2, "--url, --username, --password and --received are required");
  if (o.first_to.size() < 2 || o.first_to[0] != '+' ||
      o.first_to.find_first_not_of("0123456789", 1) != std::string::npos)
    usage(2, "--first-to wants an E.164 number such as +8613800000000");
  return o;
}

// Counts complete `Got message` lines appended to the fake SMSC's output
// since the offset it was opened at.
class ArrivalCounter {
 public:
  explicit ArrivalCounter(const std::string& path) : path_(path) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
      std::fprintf(stderr, "kannel_load: cannot read %s (the fake SMSC's output)\n", path.c_str());
      std::exit(1);
    }
    offset_ = f.tellg();
  }

  long poll() {
    std::ifstream f(path_, std::ios::binary);
    if (!f) return count_;
    f.seekg(offset_);
    char buf[1 << 16];
    while (f.read(buf, sizeof buf), f.gcount() > 0) {
      const auto n = f.gcount();
      offset_ += n;
      partial_.append(buf, std::size_t(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
        if (std::string_view(partial_).substr(start, nl - start).find("Got message") != std::string_view::npos)
          ++count_;
      partial_.erase(0, start);
    }
    return count_;
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
  std::string partial_;
  long count_ = 0;
};

struct Slot {
  CURL* easy = nullptr;
  std::string url;
  std::string answer;
  long index = -1;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* slot) {
  auto* s = static_cast<Slot*>(slot);
  if (s->answer.size() < 512) s->answer.append(data, size * count);
  return size * count;
}

std::string escape(CURL* easy, const std::string& s) {
  char* e = curl_easy_escape(easy, s.data(), int(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, long(o.concurrency));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long(o.concurrency));

  std::vector<Slot> slots(std::size_t(o.concurrency));
  for (auto& s : slots) s.easy = curl_easy_init();
  // Everything but the recipient is the same in every call: encoded once.
  const std::string fixed = o.url + (o.url.find('?') == std::string::npos ? "?" : "&") +
                            "username=" + escape(slots[0].easy, o.username) +
                            "&password=" + escape(slots[0].easy, o.password) +
                            "&from=" + escape(slots[0].easy, o.from) +
                            "&text=" + escape(slots[0].easy, o.text) + "&charset=UTF-8&coding=2&to=%2B";
  const std::string digits = o.first_to.substr(1);
  // The recipients count up from --first-to; the last digits carry the index.
  const unsigned long long first = std::strtoull(digits.c_str(), nullptr, 10);

  ArrivalCounter arrivals(o.received);
  long next = 0, accepted = 0, failed = 0, connections = 0;
  std::string first_failure;
  std::vector<Slot*> idle;
  for (auto& s : slots) idle.push_back(&s);

  const auto start = Clock::now();
  auto last_progress = start;
  int running = 0;
  while (accepted + failed < o.messages) {
    while (!idle.empty() && next < o.messages) {
      Slot* s = idle.back();
      idle.pop_back();
      s->index = next;
      s->url = fixed + std::to_string(first + static_cast<unsigned long long>(next++));
      s->answer.clear();
      curl_easy_setopt(s->easy, CURLOPT_URL, s->url.c_str());
      curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);  // else each transfer installs signal handlers
      curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 30L);
      curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, &on_data);
      curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
      curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
      curl_multi_add_handle(multi, s->easy);
    }
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0, opened = 0;
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &opened);
      connections += opened;
      if (m->data.result == CURLE_OK && status == 202) {
        ++accepted;
      } else {
        if (failed++ == 0)
          first_failure = "message " + std::to_string(s->index) + ": " +
                          (m->data.result != CURLE_OK ? curl_easy_strerror(m->data.result)
                                                      : "HTTP " + std::to_string(status) + " " + s->answer);
      }
      curl_multi_remove_handle(multi, s->easy);
      idle.push_back(s);
    }
    if (accepted + failed < o.messages) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    if (seconds_since(last_progress) >= 1) {
      last_progress = Clock::now();
      std::fprintf(stderr, "kannel_load: %ld accepted, %ld failed, %ld arrived, %.1f s\n", accepted, failed,
                   arrivals.poll(), seconds_since(start));
    }
  }
  const double send_seconds = seconds_since(start);
  for (auto& s : slots) curl_easy_cleanup(s.easy);
  curl_multi_cleanup(multi);
  if (failed) {
    std::fprintf(stderr, "kannel_load: %ld of %ld sendsms calls failed; first: %s\n", failed, o.messages,
                 first_failure.c_str());
    return 1;
  }

  // Arrivals: polled often enough that the last one is timed to a few ms.
  long arrived = arrivals.poll();
  while (arrived < o.messages) {
    if (seconds_since(start) > o.timeout) {
      std::fprintf(stderr, "kannel_load: only %ld of %ld messages reached the fake SMSC within %.0f s\n", arrived,
                   o.messages, o.timeout);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const long now = arrivals.poll();
    if (now != arrived && seconds_since(last_progress) >= 1) {
      last_progress = Clock::now();
      std::fprintf(stderr, "kannel_load: %ld arrived, %.1f s\n", now, seconds_since(start));
    }
    arrived = now;
  }
  const double seconds = seconds_since(start);
  if (arrived > o.messages) {
    std::fprintf(stderr, "kannel_load: %ld messages arrived, %ld sent: someone else is using this Kannel\n",
                 arrived, o.messages);
    return 1;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf(
      "{\"messages\": %ld, \"seconds\": %.3f, \"rate\": %.1f, \"send_seconds\": %.3f, \"send_rate\": %.1f, "
      "\"arrived\": %ld, \"concurrency\": %d, \"connections\": %ld, \"cpu_seconds\": %.3f, \"peak_rss_mib\": %.1f}\n",
      o.messages, seconds, double(o.messages) / seconds, send_seconds, double(o.messages) / send_seconds, arrived,
      o.concurrency, connections, cpu_seconds(), double(u.ru_maxrss) / 1024.0);
  curl_global_cleanup();
  return 0;
}
