// Dispatch's store: what its bookkeeping costs per delivery, as it is, against
// a baseline measured in the same run: one row a delivery appended to a table
// with no index, holding the same facts. The gap is what the random-keyed
// B-trees cost (bench/NOTES.md, "Dispatch's store at 1,000,000").
//
//   bench_dispatch_store [--deliveries N] [--runs R] [--dir DIR]
//
// "As it is": per SMS to a gateway that sends receipts, with a daily cap, the
// writes DispatchRole makes, through the same classes and the same SqliteDb
// options (group commit of 512 writes / 20 ms, exclusive, 256 MiB cache): the
// read mark (once a batch of 500), the cap's place, the receipt book's row
// (a ~300-byte status record) before submit, then the ledger's row and the
// gateway id's alias after it. The status index's row, in its own file, is
// not counted. Kafka, rendering and the network are left out. Deliveries come
// as fan-out plans them (the directory's account order) and dispatch reads
// them: 12 partitions' ascending runs, interleaved at random.
#include "engine/dispatch/daily_caps.h"
#include "engine/dispatch/read_marks.h"
#include "engine/dispatch/receipt_book.h"
#include "engine/dispatch/sent_ledger.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace sunbeam;

namespace {

struct Options {
  long deliveries = 1'000'000;
  int runs = 3;
  fs::path dir = fs::temp_directory_path() / "sunbeam-bench-dispatch-store";
};

struct Delivery {
  std::string id, account, gateway_id, record;
};

std::string hex(std::mt19937_64& rng, int chars) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(std::size_t(chars), '0');
  for (auto& c : out) c = digits[rng() & 15];
  return out;
}

std::vector<Delivery> generate(long n) {
  std::mt19937_64 rng(42);
  constexpr long partitions = 12;
  std::vector<long> next_account(partitions);  // partition p holds the accounts p, p + 12, ...
  for (long p = 0; p < partitions; ++p) next_account[std::size_t(p)] = p;
  std::vector<Delivery> out(static_cast<std::size_t>(n));
  char account[16];
  for (long i = 0; i < n; ++i) {
    auto& d = out[std::size_t(i)];
    d.id = hex(rng, 32);
    auto& next = next_account[rng() % partitions];
    std::snprintf(account, sizeof account, "B%08ld", next);
    next += partitions;
    d.account = account;
    d.gateway_id = hex(rng, 24);
    d.record = R"({"delivery_id":")" + d.id + R"(","event_id":"bench-summary","event_type":"market_summary","account":")" +
               d.account + R"(","channel":"sms","connector":"gateway","tier":"research","attempt":1,"state":"sent",)"
               R"("reason":"","time":"2026-12-07T03:00:00.000Z","parts":1,"cost_per_part":0.05})";
  }
  return out;
}

std::shared_ptr<SqliteDb> open_store(const fs::path& file) {
  fs::remove(file);
  fs::remove(file.string() + "-wal");
  auto db = SqliteDb::open(file, {.group_writes = 512, .group_age = std::chrono::milliseconds(20), .exclusive = true,
                                  .cache_mib = 256});
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().message.c_str());
    std::exit(1);
  }
  return *db;
}

template <class T>
T must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void must(Result<void> r) {
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::exit(1);
  }
}

double as_it_is(const std::vector<Delivery>& ds, const fs::path& file) {
  auto db = open_store(file);
  auto marks = must(ReadMarks::open(db, false));
  auto caps = must(DailyCaps::open(db));
  constexpr std::int64_t sent_at_ms = 1765076400000;  // 2026-12-07 03:00 UTC
  auto receipts = must(ReceiptBook::open(db, sent_at_ms));
  auto ledger = must(SentLedger::open(db));
  ledger->write_first([&](const std::unique_lock<std::mutex>& held) { return receipts->write_pending(held); });
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto& d = ds[i];
    if (i % 500 == 0) must(marks->advance("deliveries.research", 0, std::int64_t(i + 499), std::nullopt));
    if (!must(caps->try_take(d.account, "sms", "2026-12-07", d.id, 1000))) std::abort();
    receipts->expect(d.id, d.record, 1, sent_at_ms);
    receipts->alias(d.gateway_id, d.id, sent_at_ms);  // as dispatch does: before the ledger row
    must(ledger->record({"bench-summary", d.account, "sms", d.id}, {sent_at_ms, "gateway", d.gateway_id}));
  }
  must(db->flush());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double one_appended_row(const std::vector<Delivery>& ds, const fs::path& file) {
  auto db = open_store(file);
  must(db->exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, account TEXT NOT NULL,"
                " day TEXT NOT NULL, record TEXT NOT NULL, sent_at_ms INTEGER NOT NULL, connector TEXT NOT NULL,"
                " gateway_message_id TEXT NOT NULL)"));
  auto insert = must(db->prepare("INSERT INTO log (delivery_id, account, day, record, sent_at_ms, connector,"
                                 " gateway_message_id) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  const auto start = std::chrono::steady_clock::now();
  for (const auto& d : ds) {
    auto lock = db->lock();
    must(insert.reset()
             .bind(1, d.id)
             .bind(2, d.account)
             .bind(3, "2026-12-07")
             .bind(4, d.record)
             .bind(5, std::int64_t(1765076400000))
             .bind(6, "gateway")
             .bind(7, d.gateway_id)
             .run());
  }
  must(db->flush());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double spread(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--deliveries") o.deliveries = std::atol(argv[i + 1]);
    else if (flag == "--runs") o.runs = std::atoi(argv[i + 1]);
    else if (flag == "--dir") o.dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_dispatch_store [--deliveries N] [--runs R] [--dir DIR]\n");
      return 2;
    }
  }
  if (o.deliveries < 1 || o.runs < 1) {
    std::fprintf(stderr, "bench_dispatch_store: --deliveries and --runs must be at least 1\n");
    return 2;
  }
  fs::create_directories(o.dir);
  const auto ds = generate(o.deliveries);
  std::vector<double> now_s, base_s;
  for (int r = 0; r < o.runs; ++r) {  // interleaved, so both see the same machine
    now_s.push_back(as_it_is(ds, o.dir / "as-it-is.sqlite"));
    base_s.push_back(one_appended_row(ds, o.dir / "log.sqlite"));
    std::printf("run %d: as it is %.2f s (%.1f us a delivery); one appended row %.2f s (%.1f us)\n", r + 1, now_s.back(),
                now_s.back() * 1e6 / double(o.deliveries), base_s.back(), base_s.back() * 1e6 / double(o.deliveries));
  }
  std::printf("summary: %ld deliveries, %d runs: as it is median %.2f s (spread %.2f, %.1f us a delivery); "
              "one appended row median %.2f s (spread %.2f, %.1f us); as it is / baseline %.1fx\n",
              o.deliveries, o.runs, median(now_s), spread(now_s), median(now_s) * 1e6 / double(o.deliveries),
              median(base_s), spread(base_s), median(base_s) * 1e6 / double(o.deliveries),
              median(now_s) / median(base_s));
  fs::remove_all(o.dir);
  return 0;
}
