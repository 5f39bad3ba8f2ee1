// dispatch's durable stores: deferrals, daily caps, receipts, read marks; all survive a reopen.
#include "engine/dispatch/daily_caps.h"
#include "engine/dispatch/deferral_store.h"
#include "engine/dispatch/read_marks.h"
#include "engine/dispatch/receipt_book.h"
#include "engine/dispatch/sent_ledger.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

struct TempDb {
  fs::path dir = fs::temp_directory_path() / ("sunbeam-stores-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDb() { fs::remove_all(dir); }
  ~TempDb() { fs::remove_all(dir); }
  std::shared_ptr<SqliteDb> open() {
    auto db = SqliteDb::open(dir / "dispatch.sqlite");
    REQUIRE(db);
    return *db;
  }
};

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kNow = 20'000 * kDayMs + 3'600'000;  // 2024-10-04 01:00 UTC

}  // namespace

TEST_CASE("deferrals come back when due, soonest first, and survive a reopen") {
  TempDb t;
  {
    auto store = DeferralStore::open(t.open());
    REQUIRE(store);
    REQUIRE((*store)->put({"d-late", 3000, 100, "{\"late\":1}", "quiet_hours"}));
    REQUIRE((*store)->put({"d-soon", 1000, 100, "{\"soon\":1}", "retry: connector: 503"}));
    REQUIRE((*store)->put({"d-mid", 2000, 100, "{}", "quiet_hours"}));
    REQUIRE((*store)->put({"d-mid", 2500, 100, "{\"v\":2}", "retry"}));  // replaced, not added
    CHECK((*store)->size() == 3);
  }
  auto store = DeferralStore::open(t.open());
  REQUIRE(store);
  auto due = (*store)->due(999, 10);
  REQUIRE(due);
  CHECK(due->empty());
  due = (*store)->due(2600, 10);
  REQUIRE(due);
  REQUIRE(due->size() == 2);
  CHECK((*due)[0].delivery_id == "d-soon");
  CHECK((*due)[0].reason == "retry: connector: 503");
  CHECK((*due)[1].delivery_id == "d-mid");
  CHECK((*due)[1].delivery_json == "{\"v\":2}");
  REQUIRE((*store)->remove("d-soon"));
  CHECK((*store)->size() == 2);
  CHECK_FALSE((*store)->find("d-soon"));
  CHECK((*store)->find("d-late")->due_ms == 3000);
}

TEST_CASE("a daily cap counts each delivery once, per account, channel and day") {
  TempDb t;
  auto caps = DailyCaps::open(t.open());
  REQUIRE(caps);
  auto& c = **caps;
  CHECK(*c.try_take("A1", "sms", "2026-11-25", "d1", 2));
  CHECK(*c.try_take("A1", "sms", "2026-11-25", "d1", 2));  // the same delivery again (a retry)
  CHECK(*c.try_take("A1", "sms", "2026-11-25", "d2", 2));
  CHECK_FALSE(*c.try_take("A1", "sms", "2026-11-25", "d3", 2));  // capped
  CHECK(*c.try_take("A1", "email", "2026-11-25", "d4", 2));      // another channel
  CHECK(*c.try_take("A2", "sms", "2026-11-25", "d5", 2));        // another account
  CHECK(*c.try_take("A1", "sms", "2026-11-26", "d6", 2));        // another day
  CHECK(*c.try_take("A1", "sms", "2026-11-26", "d1", 1));  // a retry after midnight keeps the place it holds
  REQUIRE(c.give_back("A1", "sms", "d2"));                 // d2 failed: its place is free again
  CHECK(*c.try_take("A1", "sms", "2026-11-25", "d3", 2));
  REQUIRE(c.forget_before("2026-11-26"));
  CHECK(*c.try_take("A1", "sms", "2026-11-25", "d7", 1));
}

TEST_CASE("the caps survive a restart") {
  TempDb t;
  {
    auto caps = DailyCaps::open(t.open());
    REQUIRE(caps);
    CHECK(*(*caps)->try_take("A1", "sms", "2026-11-25", "d1", 1));
  }
  auto caps = DailyCaps::open(t.open());
  REQUIRE(caps);
  CHECK_FALSE(*(*caps)->try_take("A1", "sms", "2026-11-25", "d2", 1));
  REQUIRE((*caps)->forget_before("2026-11-25"));  // nothing older: nothing forgotten
  CHECK_FALSE(*(*caps)->try_take("A1", "sms", "2026-11-25", "d2", 1));
  REQUIRE((*caps)->forget_before("2026-11-26"));  // the reopened store knows its days
  CHECK(*(*caps)->try_take("A1", "sms", "2026-11-25", "d2", 1));
}

TEST_CASE("read marks: a record past a partition's mark was never admitted; the marks only move forward") {
  TempDb t;
  {
    auto marks = ReadMarks::open(t.open(), false);
    REQUIRE(marks);
    auto& m = **marks;
    CHECK_FALSE(m.maybe_admitted("deliveries.basic", 0, 0));  // an empty store has admitted nothing
    REQUIRE(m.advance("deliveries.basic", 0, 499, 20000));  // the partition's end matters only after an upgrade
    CHECK(m.maybe_admitted("deliveries.basic", 0, 0));
    CHECK(m.maybe_admitted("deliveries.basic", 0, 499));
    CHECK_FALSE(m.maybe_admitted("deliveries.basic", 0, 500));
    CHECK_FALSE(m.maybe_admitted("deliveries.basic", 1, 10));    // another partition
    CHECK_FALSE(m.maybe_admitted("deliveries.research", 0, 10));  // another topic
    REQUIRE(m.advance("deliveries.basic", 0, 100, std::nullopt));  // a re-read batch: the mark stays
    CHECK(m.maybe_admitted("deliveries.basic", 0, 499));
  }
  auto marks = ReadMarks::open(t.open(), true);  // after a restart
  REQUIRE(marks);
  CHECK(marks->get()->maybe_admitted("deliveries.basic", 0, 499));
  CHECK_FALSE(marks->get()->maybe_admitted("deliveries.basic", 0, 500));
  CHECK_FALSE(marks->get()->maybe_admitted("deliveries.basic", 1, 10));  // made with marks: none means never
}

TEST_CASE("read marks in a store made before them: unmarked partitions may have been admitted, up to their end") {
  TempDb t;
  {
    auto ledger = SentLedger::open(t.open());  // a store of the version before
    REQUIRE(ledger);
    REQUIRE((*ledger)->record({"e1", "A1", "sms", "d1"}, {1, "gateway", "g1"}));
  }
  {
    auto marks = ReadMarks::open(t.open(), true);
    REQUIRE(marks);
    auto& m = **marks;
    CHECK(m.maybe_admitted("deliveries.basic", 0, 123456));
    REQUIRE(m.advance("deliveries.basic", 0, 499, std::nullopt));  // the end not known yet: no mark
    CHECK(m.maybe_admitted("deliveries.basic", 0, 123456));
    REQUIRE(m.advance("deliveries.basic", 0, 499, 5000));  // the earlier version saw at most up to the end
    CHECK(m.maybe_admitted("deliveries.basic", 0, 4999));
    CHECK_FALSE(m.maybe_admitted("deliveries.basic", 0, 5000));
  }
  auto marks = ReadMarks::open(t.open(), true);  // restarted: still an upgraded store
  REQUIRE(marks);
  CHECK(marks->get()->maybe_admitted("deliveries.basic", 1, 10));
  CHECK_FALSE(marks->get()->maybe_admitted("deliveries.basic", 0, 5000));
}

TEST_CASE("receipts settle a delivery once, by our reference or the gateway's id") {
  TempDb t;
  auto book = ReceiptBook::open(t.open(), kNow);
  REQUIRE(book);
  auto& b = **book;
  b.expect("d1", "{\"record\":1}", 1, kNow);
  b.alias("gw-1", "d1", kNow);

  auto pending = b.apply({"d1", "", ReceiptOutcome::pending, 0, 0, "buffered"});
  REQUIRE(pending);
  CHECK_FALSE(*pending);  // informative only

  auto by_gateway_id = b.apply({"", "gw-1", ReceiptOutcome::delivered, 0, 0, "DELIVRD"});
  REQUIRE(by_gateway_id);
  REQUIRE(*by_gateway_id);
  CHECK((*by_gateway_id)->delivery_id == "d1");
  CHECK((*by_gateway_id)->record_json == "{\"record\":1}");
  CHECK((*by_gateway_id)->outcome == ReceiptOutcome::delivered);

  auto again = b.apply({"d1", "", ReceiptOutcome::undelivered, 0, 0, ""});
  REQUIRE(again);
  CHECK_FALSE(*again);  // settled already

  auto unknown = b.apply({"nope", "gw-nope", ReceiptOutcome::delivered, 0, 0, ""});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == "receipt_unknown");
}

TEST_CASE("a multipart SMS is delivered once every part is; one failed part makes it undelivered") {
  TempDb t;
  auto book = ReceiptBook::open(t.open(), kNow);
  REQUIRE(book);
  auto& b = **book;
  b.expect("d3", "{}", 3, kNow);
  for (int part : {2, 1, 2}) {  // part 2 twice: counted once
    auto r = b.apply({"d3", "", ReceiptOutcome::delivered, part, 3, ""});
    REQUIRE(r);
    CHECK_FALSE(*r);
  }
  auto last = b.apply({"d3", "", ReceiptOutcome::delivered, 3, 3, ""});
  REQUIRE(last);
  REQUIRE(*last);
  CHECK((*last)->outcome == ReceiptOutcome::delivered);

  b.expect("d4", "{}", 2, kNow);
  auto first = b.apply({"d4", "", ReceiptOutcome::delivered, 1, 2, ""});
  REQUIRE(first);
  CHECK_FALSE(*first);
  auto failed = b.apply({"d4", "", ReceiptOutcome::undelivered, 2, 2, "EXPIRED"});
  REQUIRE(failed);
  REQUIRE(*failed);
  CHECK((*failed)->outcome == ReceiptOutcome::undelivered);
}

TEST_CASE("the receipt book keeps a day's expectations together and forgets whole days past their retention") {
  TempDb t;
  const std::int64_t before_midnight = 20'000 * kDayMs + kDayMs - 1'000, after_midnight = before_midnight + 2'000;
  {
    auto book = ReceiptBook::open(t.open(), before_midnight);
    REQUIRE(book);
    auto& b = **book;
    b.expect("d1", "{\"record\":1}", 1, before_midnight);
    b.alias("gw-1", "d1", after_midnight);  // the gateway answered after midnight
    b.expect("d2", "{\"record\":2}", 1, after_midnight);
    CHECK(b.days() == std::vector<std::int64_t>{20'000, 20'001});
  }
  auto book = ReceiptBook::open(t.open(), after_midnight);  // the days survive a reopen
  REQUIRE(book);
  auto& b = **book;
  CHECK(b.days() == std::vector<std::int64_t>{20'000, 20'001});
  auto across = b.apply({"", "gw-1", ReceiptOutcome::delivered, 0, 0, ""});  // alias one day, row the other
  REQUIRE(across);
  REQUIRE(*across);
  CHECK((*across)->delivery_id == "d1");

  auto kept = b.forget_before(20'001 * kDayMs - 1);  // day 20,000 has not ended before then
  REQUIRE(kept);
  CHECK(*kept == 0);
  b.expect("d3", "{}", 1, before_midnight);
  auto forgot = b.forget_before(20'001 * kDayMs);
  REQUIRE(forgot);
  CHECK(*forgot == 1);
  CHECK(b.days() == std::vector<std::int64_t>{20'001});
  auto gone = b.apply({"d3", "", ReceiptOutcome::delivered, 0, 0, ""});
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == "receipt_unknown");
  auto still = b.apply({"d2", "", ReceiptOutcome::undelivered, 0, 0, "EXPIRED"});
  REQUIRE(still);
  REQUIRE(*still);
  CHECK((*still)->record_json == "{\"record\":2}");
  CHECK((*still)->outcome == ReceiptOutcome::undelivered);
}

TEST_CASE("a day is forgotten while another store's look-up is still on a row") {
  TempDb t;
  auto db = t.open();
  auto book = ReceiptBook::open(db, kNow);
  REQUIRE(book);
  (*book)->expect("d1", "{}", 1, kNow);
  REQUIRE(db->exec("CREATE TABLE other (k INTEGER); INSERT INTO other VALUES (1), (2)"));
  auto reading = db->prepare("SELECT k FROM other");
  REQUIRE(reading);
  {
    auto lock = db->lock();
    REQUIRE(reading->next_row());  // left on its first row, as a store's find() is
  }
  auto forgot = (*book)->forget_before(kNow + 2 * kDayMs);
  REQUIRE(forgot);
  CHECK(*forgot == 1);
  CHECK((*book)->days().empty());
}

TEST_CASE("a receipt book written before days: its tables become the day it is opened, and still match") {
  TempDb t;
  auto db = t.open();
  REQUIRE(db->exec("CREATE TABLE receipt_expected (delivery_id TEXT PRIMARY KEY, record TEXT NOT NULL,"
                   "  parts INTEGER NOT NULL, settled INTEGER NOT NULL DEFAULT 0);"
                   "CREATE TABLE receipt_alias (gateway_message_id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL) WITHOUT ROWID;"
                   "CREATE TABLE receipt_parts (delivery_id TEXT NOT NULL, part TEXT NOT NULL, outcome INTEGER NOT NULL,"
                   "  PRIMARY KEY (delivery_id, part)) WITHOUT ROWID;"
                   "INSERT INTO receipt_expected (delivery_id, record, parts) VALUES ('old', '{\"old\":1}', 1);"
                   "INSERT INTO receipt_alias VALUES ('gw-old', 'old');"));
  auto book = ReceiptBook::open(db, kNow);
  REQUIRE(book);
  CHECK((*book)->days() == std::vector<std::int64_t>{20'000});
  auto matched = (*book)->apply({"", "gw-old", ReceiptOutcome::delivered, 0, 0, ""});
  REQUIRE(matched);
  REQUIRE(*matched);
  CHECK((*matched)->record_json == "{\"old\":1}");
  auto forgot = (*book)->forget_before(20'001 * kDayMs);
  REQUIRE(forgot);
  CHECK(*forgot == 1);
}
