#include "engine/dispatch/receipt_book.h"
#include "engine/dispatch/sent_ledger.h"
#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {
Result<std::unique_ptr<SentLedger>> open_ledger(const fs::path& file) {
  auto db = SqliteDb::open(file);
  if (!db) return db.error();
  return SentLedger::open(*db);
}

// A delivery of event e1 to `account` by SMS (its id is only read from a store of the old layout).
SentLedger::Key sms(const std::string& account, const std::string& event = "e1") {
  static std::vector<std::unique_ptr<std::string>> kept;  // the key's views outlive the call
  kept.push_back(std::make_unique<std::string>(event));
  const std::string& e = *kept.back();
  kept.push_back(std::make_unique<std::string>(account));
  const std::string& a = *kept.back();
  kept.push_back(std::make_unique<std::string>("id-" + e + "-" + a));
  return {e, a, "sms", *kept.back()};
}

// A table written through the store's group commit, and counted by another connection.
struct Rows {
  std::shared_ptr<SqliteDb> db;
  SqlStatement insert;
  explicit Rows(std::shared_ptr<SqliteDb> d) : db(std::move(d)) {
    REQUIRE(db->exec("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY)"));
    REQUIRE(db->prepare_all({{&insert, "INSERT INTO t VALUES (?)"}}));
  }
  Result<void> add(const std::string& id) {
    auto lock = db->lock();
    return insert.reset().bind(1, id).run();
  }
  std::int64_t seen_here() {  // its own writes, committed or not
    auto lock = db->lock();
    auto count = db->prepare("SELECT count(*) FROM t");
    REQUIRE(count);
    return count->next_row() ? count->int64_at(0) : -1;
  }
};
// What another connection sees: only what was committed.
std::int64_t committed_rows(const fs::path& file, const std::string& table = "t") {
  auto db = SqliteDb::open(file);
  REQUIRE(db);
  auto lock = (*db)->lock();
  auto count = (*db)->prepare("SELECT count(*) FROM " + table);
  REQUIRE(count);
  return count->next_row() ? count->int64_at(0) : -1;
}
// A ledger in a store whose own group (100 writes) never commits first: what
// another connection sees committed is what the ledger committed.
struct GroupedLedger {
  std::shared_ptr<SqliteDb> db;
  std::unique_ptr<SentLedger> ledger;  // declared after db: closed before it
  GroupedLedger(const fs::path& file, std::size_t pending_limit, std::chrono::milliseconds max_age) {
    auto opened = SqliteDb::open(file, {.group_writes = 100});
    REQUIRE(opened);
    db = *opened;
    auto l = SentLedger::open(db, pending_limit, max_age);
    REQUIRE(l);
    ledger = std::move(*l);
  }
};
// A fresh directory of the test's own, removed when the test ends however it ends.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};
}  // namespace

TEST_CASE("the ledger remembers sent deliveries across a reopen, once each") {
  const ScratchDir scratch("sunbeam-ledger-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "nested" / "ledger.sqlite";
  {
    auto ledger = open_ledger(file);
    REQUIRE(ledger);
    CHECK_FALSE((*ledger)->find(sms("A1")));
    REQUIRE((*ledger)->record(sms("A1"), {1000, "outbox", "gw-1"}));
    REQUIRE((*ledger)->record(sms("A1"), {2000, "other", "gw-2"}));  // the first record stands
    REQUIRE((*ledger)->record(sms("A2"), {3000, "outbox", ""}));
    CHECK((*ledger)->size() == 2);
  }
  auto reopened = open_ledger(file);
  REQUIRE(reopened);
  auto a1 = (*reopened)->find(sms("A1"));
  REQUIRE(a1);
  CHECK(a1->sent_at_ms == 1000);
  CHECK(a1->connector == "outbox");
  CHECK(a1->gateway_message_id == "gw-1");
  CHECK((*reopened)->find(sms("A2")));
  CHECK_FALSE((*reopened)->find(sms("A3")));
  CHECK_FALSE((*reopened)->find(sms("A1", "e2")));  // another event's delivery to the same account
  auto email = sms("A1");
  email.channel = "email";
  CHECK_FALSE((*reopened)->find(email));
}

TEST_CASE("records from many threads all land") {
  const ScratchDir scratch("sunbeam-ledger-mt-");
  const fs::path& dir = scratch.path;
  auto ledger = open_ledger(dir / "ledger.sqlite");
  REQUIRE(ledger);
  std::vector<SentLedger::Key> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(sms("A" + std::to_string(i), "e" + std::to_string(i % 7)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) CHECK((*ledger)->record(keys[std::size_t(t * 250 + i)], {i, "outbox", ""}));
    });
  for (auto& t : threads) t.join();
  CHECK((*ledger)->size() == 1000);
}

TEST_CASE("an event's sends are forgotten once its last send is older than the retention") {
  const ScratchDir scratch("sunbeam-ledger-forget-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "ledger.sqlite";
  constexpr std::int64_t day = 24LL * 3600 * 1000, t0 = 1'795'000'000'000;
  {
    auto ledger = open_ledger(file);
    REQUIRE(ledger);
    auto& l = **ledger;
    REQUIRE(l.record(sms("A1", "old"), {t0, "gw", ""}));
    REQUIRE(l.record(sms("A2", "old"), {t0 + 1000, "gw", ""}));
    REQUIRE(l.record(sms("A1", "spread"), {t0, "gw", ""}));   // sent over two days:
    REQUIRE(l.record(sms("A2", "spread"), {t0 + day, "gw", ""}));  // its last send counts
    REQUIRE(l.record(sms("A1", "new"), {t0 + 2 * day, "gw", ""}));
    auto forgotten = l.forget_before(t0 + day - 1);
    REQUIRE(forgotten);
    CHECK(*forgotten == 2);
    CHECK_FALSE(l.find(sms("A1", "old")));
    CHECK_FALSE(l.find(sms("A2", "old")));
    CHECK(l.find(sms("A1", "spread")));
    CHECK(l.find(sms("A1", "new")));
    CHECK(l.size() == 3);
  }
  auto reopened = open_ledger(file);  // the last-send times were stored, not only kept in memory
  REQUIRE(reopened);
  auto forgotten = (*reopened)->forget_before(t0 + 2 * day - 1);
  REQUIRE(forgotten);
  CHECK(*forgotten == 2);
  CHECK_FALSE((*reopened)->find(sms("A2", "spread")));
  CHECK((*reopened)->find(sms("A1", "new")));
}

TEST_CASE("a store of the id-keyed layout is still looked up, until its rows are past the retention") {
  const ScratchDir scratch("sunbeam-ledger-legacy-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "ledger.sqlite";
  constexpr std::int64_t t0 = 1'795'000'000'000;
  {
    auto db = SqliteDb::open(file);
    REQUIRE(db);
    REQUIRE((*db)->exec("CREATE TABLE sent (delivery_id TEXT PRIMARY KEY, sent_at_ms INTEGER NOT NULL,"
                        " connector TEXT NOT NULL, gateway_message_id TEXT NOT NULL) WITHOUT ROWID;"
                        "INSERT INTO sent VALUES ('id-e1-A1', 1795000000000, 'gateway', 'g1'),"
                        " ('id-e1-A2', 1795000100000, 'gateway', 'g2');"));
  }
  auto ledger = open_ledger(file);
  REQUIRE(ledger);
  auto& l = **ledger;
  auto a1 = l.find(sms("A1"));
  REQUIRE(a1);
  CHECK(a1->gateway_message_id == "g1");
  CHECK_FALSE(l.find(sms("A3")));
  REQUIRE(l.record(sms("A3"), {t0 + 200000, "gateway", "g3"}));
  CHECK(l.size() == 3);
  auto forgotten = l.forget_before(t0 + 50000);
  REQUIRE(forgotten);
  CHECK(*forgotten == 1);
  CHECK_FALSE(l.find(sms("A1")));
  CHECK(l.find(sms("A2")));
  REQUIRE(l.forget_before(t0 + 150000));  // the old table is empty now: dropped
  CHECK_FALSE(l.find(sms("A2")));
  CHECK(l.find(sms("A3")));
  CHECK(l.size() == 1);
  ledger->reset();
  auto db = SqliteDb::open(file);
  REQUIRE(db);
  auto lock = (*db)->lock();
  auto table = (*db)->prepare("SELECT 1 FROM sqlite_master WHERE name = 'sent'");
  REQUIRE(table);
  CHECK_FALSE(table->next_row());
}

TEST_CASE("an unwritable place is a clear error") {
  auto ledger = open_ledger("/proc/no-such-dir/ledger.sqlite");
  REQUIRE_FALSE(ledger);
  CHECK(ledger.error().code == "store");
}

TEST_CASE("group commit: writes join one transaction, committed when full, at flush, and at close") {
  const ScratchDir scratch("sunbeam-group-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "grouped.sqlite";
  auto db = SqliteDb::open(file, {.group_writes = 3, .group_age = std::chrono::hours(1)});
  REQUIRE(db);
  Rows rows(*db);
  // What another connection sees is what is committed.
  REQUIRE(rows.add("d1"));
  REQUIRE(rows.add("d2"));
  CHECK(rows.seen_here() == 2);
  CHECK(committed_rows(file) == 0);
  REQUIRE(rows.add("d3"));  // the third write fills the group
  CHECK(committed_rows(file) == 3);
  REQUIRE(rows.add("d4"));
  CHECK(committed_rows(file) == 3);
  REQUIRE((*db)->flush());
  CHECK(committed_rows(file) == 4);
  REQUIRE((*db)->flush());  // nothing open: harmless
  REQUIRE(rows.add("d5"));
  rows.insert = {};
  rows.db.reset();
  db->reset();  // closing commits the open group
  CHECK(committed_rows(file) == 5);
}

TEST_CASE("group commit: a group older than group_age is committed by the next write") {
  const ScratchDir scratch("sunbeam-group-age-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "grouped.sqlite";
  auto db = SqliteDb::open(file, {.group_writes = 1000, .group_age = std::chrono::milliseconds(1)});
  REQUIRE(db);
  Rows rows(*db);
  REQUIRE(rows.add("d1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(rows.add("d2"));
  CHECK(committed_rows(file) == 2);
}

TEST_CASE("sends wait to be written: found meanwhile, written when asked, committed before pending_limit of them could be lost") {
  const ScratchDir scratch("sunbeam-ledger-pending-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "dispatch.sqlite";
  const auto committed = [&] { return committed_rows(file, "sent_by_event"); };
  {
    GroupedLedger store(file, /*pending_limit=*/3, /*max_age=*/std::chrono::hours(1));
    SentLedger& l = *store.ledger;
    REQUIRE(l.record(sms("A1"), {1000, "primary", "gw-1"}));
    REQUIRE(l.record(sms("A2"), {1001, "primary", "gw-2"}));
    CHECK(committed() == 0);  // waiting, in memory
    auto found = l.find(sms("A1"));
    REQUIRE(found);
    CHECK(found->gateway_message_id == "gw-1");
    REQUIRE(l.write_pending());
    CHECK(committed() == 2);  // written and committed, though the group holds 100
    REQUIRE(l.write_pending());  // nothing waits: nothing to do

    REQUIRE(l.record(sms("A3"), {1002, "primary", "gw-3"}));
    REQUIRE(l.record(sms("A4"), {1003, "primary", "gw-4"}));
    CHECK(committed() == 2);
    REQUIRE(l.record(sms("A5"), {1004, "primary", "gw-5"}));  // the third waiting: written by this call
    CHECK(committed() == 5);

    REQUIRE(l.record(sms("A6"), {1005, "primary", "gw-6"}));
    REQUIRE(l.write_pending(SentLedger::Commit::when_due));  // joins the open group: 1 of 3 at risk
    CHECK(committed() == 5);
    CHECK(l.find(sms("A6")));
    REQUIRE(l.record(sms("A7"), {1006, "primary", "gw-7"}));
    REQUIRE(l.record(sms("A8"), {1007, "primary", "gw-8"}));  // 2 waiting + 1 uncommitted: all committed
    CHECK(committed() == 8);
    REQUIRE(l.record(sms("A9"), {1008, "primary", "gw-9"}));  // waits; the reopen below never sees it
  }
  auto ledger = open_ledger(file);
  REQUIRE(ledger);
  CHECK((*ledger)->find(sms("A8")));
  CHECK_FALSE((*ledger)->find(sms("A9")));  // lost with the process, as an open group is
  CHECK((*ledger)->size() == 8);
}

TEST_CASE("a send that has waited max_age is committed with the next one recorded") {
  const ScratchDir scratch("sunbeam-ledger-age-");
  const fs::path& dir = scratch.path;
  const auto file = dir / "dispatch.sqlite";
  GroupedLedger store(file, /*pending_limit=*/100, /*max_age=*/std::chrono::milliseconds(5));
  SentLedger& l = *store.ledger;
  REQUIRE(l.record(sms("B1"), {1000, "primary", ""}));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(l.write_pending(SentLedger::Commit::when_due));  // the consumer's turn: old enough
  CHECK(committed_rows(file, "sent_by_event") == 1);
  REQUIRE(l.record(sms("B2"), {1001, "primary", ""}));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(l.record(sms("B3"), {1002, "primary", ""}));  // B2 is old: this call commits both
  CHECK(committed_rows(file, "sent_by_event") == 3);
}

TEST_CASE("with its writer thread, the ledger commits a send that has waited max_age with no other call") {
  const ScratchDir scratch("sunbeam-ledger-writer-");
  const auto file = scratch.path / "dispatch.sqlite";
  GroupedLedger store(file, /*pending_limit=*/100, /*max_age=*/std::chrono::milliseconds(5));
  SentLedger& l = *store.ledger;
  l.write_in_background();
  REQUIRE(l.record(sms("W1"), {1000, "primary", ""}));
  REQUIRE(l.record(sms("W2"), {1001, "primary", ""}));  // not old yet: returns without writing
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (committed_rows(file, "sent_by_event") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(committed_rows(file, "sent_by_event") == 2);
  // And again, once the first commit has reset the age.
  REQUIRE(l.record(sms("W3"), {1002, "primary", ""}));
  while (committed_rows(file, "sent_by_event") < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(committed_rows(file, "sent_by_event") == 3);
  l.stop_writing();
  REQUIRE(l.record(sms("W4"), {1003, "primary", ""}));  // stopped: waits for a caller again
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(committed_rows(file, "sent_by_event") == 3);
}

TEST_CASE("sends recorded from many threads are each written once") {
  const ScratchDir scratch("sunbeam-ledger-threads-");
  const fs::path& dir = scratch.path;
  auto db = SqliteDb::open(dir / "dispatch.sqlite", {.group_writes = 64});
  REQUIRE(db);
  auto ledger = SentLedger::open(*db, 64);
  REQUIRE(ledger);
  auto& l = **ledger;
  std::vector<std::string> accounts;
  for (int i = 0; i < 4 * 500; ++i) accounts.push_back("T" + std::to_string(i));
  std::vector<std::thread> senders;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i)
        if (!l.record({"e1", accounts[std::size_t(t * 500 + i)], "sms", ""}, {1000 + i, "primary", ""})) ++failures;
    });
  std::atomic<bool> done = false;
  std::thread writer([&] {  // as dispatch's consumer thread does, every turn
    while (!done) {
      if (!l.write_pending(SentLedger::Commit::when_due)) ++failures;
      std::this_thread::yield();
    }
  });
  for (auto& s : senders) s.join();
  done = true;
  writer.join();
  CHECK(failures == 0);
  CHECK(l.size() == 2000);
  for (const auto& a : accounts) CHECK(l.find({"e1", a, "sms", ""}));
}

TEST_CASE("a send's receipt rows wait with it and are committed no later than its ledger row") {
  const ScratchDir scratch("sunbeam-ledger-receipts-");
  const auto file = scratch.path / "dispatch.sqlite";
  constexpr std::int64_t now_ms = 20'000LL * 86'400'000;  // day 20,000
  const auto committed = [&](const std::string& table) { return committed_rows(file, table); };
  GroupedLedger store(file, /*pending_limit=*/2, /*max_age=*/std::chrono::hours(1));
  SentLedger& l = *store.ledger;
  auto receipts = ReceiptBook::open(store.db, now_ms);
  REQUIRE(receipts);
  auto& book = **receipts;
  l.write_first([&](const std::unique_lock<std::mutex>& held) { return book.write_pending(held); });

  // As dispatch does: the expectation before the submit, the alias then the ledger row on accept.
  book.expect("d1", "{\"record\":1}", 1, now_ms);
  book.alias("gw-1", "d1", now_ms);
  REQUIRE(l.record(sms("A1"), {now_ms, "primary", "gw-1"}));
  CHECK(committed("sent_by_event") == 0);  // all three wait in memory: not even a day's tables yet
  CHECK(committed("sqlite_master WHERE name GLOB 'receipt_*'") == 0);
  book.expect("d2", "{\"record\":2}", 1, now_ms);
  book.alias("gw-2", "d2", now_ms);
  REQUIRE(l.record(sms("A2"), {now_ms, "primary", "gw-2"}));  // the second waiting send: committed, receipts first
  CHECK(committed("sent_by_event") == 2);
  CHECK(committed("receipt_expected_20000") == 2);
  CHECK(committed("receipt_alias_20000") == 2);

  book.expect("d3", "{\"record\":3}", 1, now_ms);  // about to be submitted
  REQUIRE(l.write_pending(SentLedger::Commit::when_due));  // the consumer's turn: written into the open group
  CHECK(committed("receipt_expected_20000") == 2);
  REQUIRE(l.write_pending());
  CHECK(committed("receipt_expected_20000") == 3);

  // A receipt finds what still waits (apply writes it first).
  book.alias("gw-3", "d3", now_ms);
  auto settled = book.apply({"", "gw-3", ReceiptOutcome::delivered, 0, 0, "DELIVRD"});
  REQUIRE(settled);
  REQUIRE(*settled);
  CHECK((*settled)->delivery_id == "d3");
  CHECK((*settled)->record_json == "{\"record\":3}");
}

TEST_CASE("sends a writer has taken count against pending_limit until they are committed") {
  // The bound a SIGKILL's duplicates rely on: at most pending_limit recorded
  // sends are uncommitted at once, also while another thread is writing some.
  const ScratchDir scratch("sunbeam-ledger-taken-");
  const auto file = scratch.path / "dispatch.sqlite";
  GroupedLedger store(file, /*pending_limit=*/3, /*max_age=*/std::chrono::hours(1));
  SentLedger& l = *store.ledger;
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool writer_inside = false, writer_may_go = false;
  l.write_first([&](const std::unique_lock<std::mutex>&) -> Result<void> {  // holds the writer mid-write
    std::unique_lock gate(gate_mutex);
    if (writer_inside || writer_may_go) return {};  // only the first writer is held
    writer_inside = true;
    gate_changed.notify_all();
    gate_changed.wait(gate, [&] { return writer_may_go; });
    return {};
  });
  REQUIRE(l.record(sms("A1"), {1000, "primary", ""}));
  REQUIRE(l.record(sms("A2"), {1001, "primary", ""}));
  std::thread writer([&] { CHECK(l.write_pending()); });  // takes A1 and A2, then is held
  {
    std::unique_lock gate(gate_mutex);
    gate_changed.wait(gate, [&] { return writer_inside; });
  }
  std::atomic<bool> recorded = false;
  std::thread recorder([&] {  // A3 makes three at risk: it must not return until all three are committed
    CHECK(l.record(sms("A3"), {1002, "primary", ""}));
    recorded = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(recorded);  // waiting for the held writer, not returned with A3 uncommitted
  {
    std::lock_guard gate(gate_mutex);
    writer_may_go = true;
  }
  gate_changed.notify_all();
  writer.join();
  recorder.join();
  CHECK(committed_rows(file, "sent_by_event") == 3);
}
