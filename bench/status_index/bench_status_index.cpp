// Status index: how long a rebuild of N status records takes (parse + apply
// in batches of 50,000, as the status view does it, Kafka left out), against a
// baseline measured in the same run: parsing the same records alone; then,
// on the loaded index, the medians of the queries the API makes.
//
//   bench_status_index [--records N] [--runs R] [--queries Q] [--dir DIR] [--keep]
//                      [--batch B] [--pragma "PRAGMA ..."]   (to try another batch size or SQLite setting)
//
// Generated data: 100 events; per delivery one record (85% sent, 5% failed
// with a dead letter, 5% suppressed, 3% deferred, 2% expired), then receipts
// (`delivered`) for some of the sent ones, until N delivery records;
// 4/5 SMS through two gateways, 1/5 e-mail; three tiers; three reasons. An
// event's accounts come as fan-out plans them (the directory's account order)
// and dispatch reads them: 12 partitions' ascending runs, interleaved at random.
#include "engine/core/delivery.h"
#include "engine/replay/replay_store.h"
#include "engine/status/status_index.h"

#include <boost/json/serialize.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace sunbeam;

namespace {

struct Options {
  long records = 1'000'000;
  int runs = 3;
  int queries = 101;
  fs::path dir = fs::temp_directory_path() / "sunbeam-bench-status-index";
  bool keep = false;
};

constexpr int event_count = 100;
constexpr std::int64_t base_ms = 1'795'000'000'000;  // 2026-11-18
// Records per transaction: as the status view applies them while catching up.
std::size_t batch_size = 50000;

// The topics' contents, as Kafka would hand them over: (is dlq, JSON).
struct Generated {
  std::vector<std::pair<bool, std::string>> messages;
  long delivery_records = 0;
  long failed = 0;
};

Generated generate(long records) {
  std::mt19937_64 rng(42);
  Generated g;
  const long deliveries = records * 4 / 5;  // the rest are receipts
  const long per_event = deliveries / event_count;
  static const char* tiers[] = {"advisor", "research", "basic", "basic", "basic"};
  static const char* reasons[] = {"http 503 after 5 attempts", "gateway: invalid number", "timeout after 30 s"};
  std::vector<StatusRecord> sent;
  for (int e = 0; e < event_count; ++e) {
    const std::string event_id = "ev-" + std::to_string(e);
    const std::int64_t event_ms = base_ms + std::int64_t(e) * 600'000;  // one event each 10 minutes
    std::map<std::pair<std::string, std::string>, FanoutCount> counts;
    constexpr long partitions = 12;
    std::vector<long> next_account(partitions);  // partition p holds the accounts p, p + 12, ...
    for (long p = 0; p < partitions; ++p) next_account[std::size_t(p)] = p;
    for (long i = 0; i < per_event; ++i) {
      StatusRecord r;
      auto& account = next_account[rng() % partitions];
      char name[16];
      std::snprintf(name, sizeof name, "C%08ld", account);
      account += partitions;
      r.event_id = event_id;
      r.event_type = e % 3 ? "notice" : "risk_alert";
      r.account = name;
      r.tier = tiers[rng() % 5];
      const bool email = rng() % 5 == 0;
      r.channel = email ? "email" : "sms";
      r.delivery_id = make_delivery_id(r.event_id, r.account, email ? Channel::email : Channel::sms);
      r.connector = email ? "smtp" : (rng() % 4 ? "gateway" : "backup");
      r.attempt = 1;
      r.time_ms = event_ms + std::int64_t(rng() % 600'000);
      const auto roll = rng() % 100;
      auto& c = counts[{r.tier, r.channel}];
      c.tier = r.tier;
      c.channel = r.channel;
      if (roll < 85) {
        r.state = DeliveryState::sent;
        ++c.planned;
      } else if (roll < 90) {
        r.state = DeliveryState::failed;
        r.attempt = 5;
        r.reason = reasons[rng() % 3];
        ++c.planned;
      } else if (roll < 95) {
        r.state = DeliveryState::suppressed;
        r.reason = rng() % 2 ? "opt_out" : "cap";
        ++c.suppressed;
      } else if (roll < 98) {
        r.state = DeliveryState::deferred;
        r.reason = "quiet_hours";
        ++c.planned;
      } else {
        r.state = DeliveryState::expired;
        ++c.planned;
      }
      g.messages.emplace_back(false, serialize(r));
      ++g.delivery_records;
      if (r.state == DeliveryState::failed) {
        ++g.failed;
        boost::json::object delivery{{"delivery_id", r.delivery_id}, {"event_id", r.event_id},
                                     {"event_type", r.event_type},   {"account", r.account},
                                     {"tier", r.tier},               {"channel", r.channel},
                                     {"priority", "normal"},         {"attempt", r.attempt},
                                     {"recipient", boost::json::object{{"name", "张伟"}, {"address", "+8613800000001"},
                                                                       {"locale", "zh-CN"}}},
                                     {"data", boost::json::object{{"title", "休市安排"}, {"body", "明日休市"}}}};
        g.messages.emplace_back(true, boost::json::serialize(boost::json::object{
                                          {"delivery", std::move(delivery)}, {"connector", r.connector},
                                          {"attempts", r.attempt}, {"last_error", r.reason},
                                          {"failed_at", "2026-11-18T00:00:00.000Z"}}));
      }
      if (r.state == DeliveryState::sent && rng() % 10 < 3) sent.push_back(r);
    }
    FanoutSummary summary{event_id, e % 3 ? "notice" : "risk_alert", {}, event_ms};
    for (const auto& [key, c] : counts) summary.counts.push_back(c);
    g.messages.emplace_back(false, serialize(summary));
  }
  // Receipts, after the fact, until N delivery records.
  for (auto& r : sent) {
    if (g.delivery_records >= records) break;
    r.state = DeliveryState::delivered;
    r.time_ms += 5000;
    g.messages.emplace_back(false, serialize(r));
    ++g.delivery_records;
  }
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double spread(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
}

// User + system CPU seconds of this process so far: steadier than wall time
// on a machine shared with builds.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Parses every message; with an index, applies them in batches with positions.
void load(const Generated& g, StatusIndex* index) {
  std::vector<StatusIndex::Input> batch;
  batch.reserve(batch_size);
  std::int64_t offset = 0;
  const auto flush = [&] {
    if (index && !batch.empty())
      if (auto r = index->apply(batch, {{"status", 0, offset}}); !r) {
        std::fprintf(stderr, "apply: %s\n", r.error().message.c_str());
        std::exit(1);
      }
    batch.clear();
  };
  for (const auto& [dlq, json] : g.messages) {
    ++offset;
    if (dlq) {
      auto letter = parse_dead_letter(json);
      if (!letter) std::abort();
      batch.emplace_back(std::move(*letter));
    } else {
      auto record = parse_status_record(json);
      if (!record) std::abort();
      batch.emplace_back(std::move(*record));
    }
    if (batch.size() == batch_size) flush();
  }
  flush();
}

// Median microseconds of `q` runs of `query`.
double time_us(int q, const std::function<void()>& query) {
  std::vector<double> us;
  for (int i = 0; i < q; ++i) {
    const auto start = std::chrono::steady_clock::now();
    query();
    us.push_back(seconds_since(start) * 1e6);
  }
  return median(us);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string pragma;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--records" && has_value) o.records = std::atol(argv[++i]);
    else if (flag == "--runs" && has_value) o.runs = std::atoi(argv[++i]);
    else if (flag == "--queries" && has_value) o.queries = std::atoi(argv[++i]);
    else if (flag == "--dir" && has_value) o.dir = argv[++i];
    else if (flag == "--keep") o.keep = true;
    else if (flag == "--batch" && has_value) batch_size = std::size_t(std::atol(argv[++i]));
    else if (flag == "--pragma" && has_value) pragma = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: bench_status_index [--records N] [--runs R] [--queries Q] [--dir DIR] [--keep] [--batch B] "
                   "[--pragma SQL]\n");
      return 2;
    }
  }
  std::printf("generating %ld delivery records over %d events\n", o.records, event_count);
  const auto g = generate(o.records);
  std::printf("%zu messages: %ld delivery records (%ld failed, each with a dead letter), %d fan-out summaries\n",
              g.messages.size(), g.delivery_records, g.failed, event_count);

  const fs::path file = o.dir / "bench-status.sqlite";
  std::vector<double> load_s, load_cpu, base_s;
  std::unique_ptr<StatusIndex> index;
  for (int r = 0; r < o.runs; ++r) {
    index.reset();
    fs::remove_all(o.dir);
    auto start = std::chrono::steady_clock::now();
    load(g, nullptr);
    base_s.push_back(seconds_since(start));
    auto opened = StatusIndex::open(file);
    if (!opened) {
      std::fprintf(stderr, "%s\n", opened.error().message.c_str());
      return 1;
    }
    index = std::move(*opened);
    if (!pragma.empty()) (void)index->writer().exec(pragma);
    start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    load(g, index.get());
    load_s.push_back(seconds_since(start));
    load_cpu.push_back(cpu_seconds() - cpu_start);
    std::uintmax_t bytes = 0;
    for (const auto& f : fs::directory_iterator(o.dir)) bytes += f.file_size();
    std::printf("run %d: load %.2f s (CPU %.2f s, %.0f records/s), files %.0f MiB; baseline parse %.2f s\n", r + 1,
                load_s.back(), load_cpu.back(), double(g.messages.size()) / load_s.back(), double(bytes) / (1 << 20),
                base_s.back());
  }
  std::printf("summary: %zu messages, %d runs: load median %.2f s (spread %.2f), CPU median %.2f s; baseline parse "
              "median %.2f s; load / baseline %.1fx\n",
              g.messages.size(), o.runs, median(load_s), spread(load_s), median(load_cpu), median(base_s),
              median(load_s) / median(base_s));

  // The queries, on the last index loaded.
  const auto failures = index->failures({}, 1);
  if (failures.total != g.failed) {
    std::fprintf(stderr, "unexpected: %lld failures indexed, %ld generated\n", (long long)failures.total, g.failed);
    return 1;
  }
  std::mt19937_64 rng(7);
  const auto any_event = [&] { return "ev-" + std::to_string(rng() % event_count); };
  std::printf("queries (median of %d, microseconds):\n", o.queries);
  std::printf("  event(id)                                %10.0f\n", time_us(o.queries, [&] {
                if (!index->event(any_event())) std::abort();
              }));
  std::printf("  recent_events(50)                        %10.0f\n", time_us(o.queries, [&] {
                if (index->recent_events(50).size() != 50) std::abort();
              }));
  std::printf("  delivery_counts()                        %10.0f\n",
              time_us(o.queries, [&] { (void)index->delivery_counts(); }));
  struct Named {
    const char* name;
    std::function<FailureSelector()> make;
  };
  const Named selectors[] = {
      {"failures({}, 100)", [] { return FailureSelector{}; }},
      {"failures({event}, 100)",
       [&] {
         FailureSelector s;
         s.event_id = any_event();
         return s;
       }},
      {"failures({connector}, 100)",
       [] {
         FailureSelector s;
         s.connector = "backup";
         return s;
       }},
      {"failures({since, until: 1 h}, 100)",
       [&] {
         FailureSelector s;
         s.since_ms = base_ms + std::int64_t(rng() % event_count) * 600'000;
         s.until_ms = *s.since_ms + 3'600'000;
         return s;
       }},
      {"failures({reason substring}, 100)",
       [] {
         FailureSelector s;
         s.reason = "invalid number";
         return s;
       }},
      {"failures({event, connector, reason}, 100)",
       [&] {
         FailureSelector s;
         s.event_id = any_event();
         s.connector = "gateway";
         s.reason = "503";
         return s;
       }},
  };
  for (const auto& [name, make] : selectors) {
    std::int64_t total = 0;
    const double us = time_us(o.queries, [&] { total = index->failures(make(), 100).total; });
    std::printf("  %-40s %10.0f   (last total %lld)\n", name, us, (long long)total);
  }
  auto store = ReplayStore::open(*index);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  std::printf("  %-40s %10.0f\n", "replay plan({connector})", time_us(o.queries, [&] {
                FailureSelector s;
                s.connector = "backup";
                if (!(*store)->count(s)) std::abort();
              }));
  // A replay of every failure: recording it (once: it takes them all), then
  // its progress, as GET /v1/replays/{id} computes it.
  FailureSelector all;
  all.all = true;
  auto start = std::chrono::steady_clock::now();
  const auto matched = (*store)->create("r-bench", all, base_ms);
  const double create_us = seconds_since(start) * 1e6;
  if (!matched || *matched != g.failed) std::abort();
  std::printf("  %-40s %10.0f   (once, %lld items)\n", "replay start({all}): record the items", create_us,
              (long long)*matched);
  std::printf("  %-40s %10.0f\n", "replay progress", time_us(o.queries, [&] {
                if (!(*store)->progress("r-bench")) std::abort();
              }));
  store->reset();  // before the index it reads
  index.reset();
  if (!o.keep) fs::remove_all(o.dir);
  return 0;
}
