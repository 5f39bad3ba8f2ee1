#include "engine/dispatch/sent_ledger.h"
#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

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
}  // namespace

TEST_CASE("the ledger remembers sent deliveries across a reopen, once each") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-ledger-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto file = dir / "nested" / "ledger.sqlite";
  {
    auto ledger = open_ledger(file);
    REQUIRE(ledger);
    CHECK_FALSE((*ledger)->find("d1"));
    REQUIRE((*ledger)->record("d1", {1000, "outbox", "gw-1"}));
    REQUIRE((*ledger)->record("d1", {2000, "other", "gw-2"}));  // the first record stands
    REQUIRE((*ledger)->record("d2", {3000, "outbox", ""}));
    CHECK((*ledger)->size() == 2);
  }
  auto reopened = open_ledger(file);
  REQUIRE(reopened);
  auto d1 = (*reopened)->find("d1");
  REQUIRE(d1);
  CHECK(d1->sent_at_ms == 1000);
  CHECK(d1->connector == "outbox");
  CHECK(d1->gateway_message_id == "gw-1");
  CHECK((*reopened)->find("d2"));
  CHECK_FALSE((*reopened)->find("d3"));
  fs::remove_all(dir);
}

TEST_CASE("records from many threads all land") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-ledger-mt-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto ledger = open_ledger(dir / "ledger.sqlite");
  REQUIRE(ledger);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) CHECK((*ledger)->record(std::to_string(t * 1000 + i), {i, "outbox", ""}));
    });
  for (auto& t : threads) t.join();
  CHECK((*ledger)->size() == 1000);
  fs::remove_all(dir);
}

TEST_CASE("an unwritable place is a clear error") {
  auto ledger = open_ledger("/proc/no-such-dir/ledger.sqlite");
  REQUIRE_FALSE(ledger);
  CHECK(ledger.error().code == "store");
}

TEST_CASE("group commit: writes join one transaction, committed when full, at flush, and at close") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-group-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto file = dir / "grouped.sqlite";
  auto db = SqliteDb::open(file, {.group_writes = 3, .group_age = std::chrono::hours(1)});
  REQUIRE(db);
  auto ledger = SentLedger::open(*db);
  REQUIRE(ledger);
  // What another connection sees is what is committed.
  auto seen = [&] {
    auto other = open_ledger(file);
    REQUIRE(other);
    return (*other)->size();
  };
  REQUIRE((*ledger)->record("d1", {1, "gw", ""}));
  REQUIRE((*ledger)->record("d2", {2, "gw", ""}));
  CHECK((*ledger)->find("d2"));  // its own writes, before the commit
  CHECK((*ledger)->size() == 2);
  CHECK(seen() == 0);
  REQUIRE((*ledger)->record("d3", {3, "gw", ""}));  // the third write fills the group
  CHECK(seen() == 3);
  REQUIRE((*ledger)->record("d4", {4, "gw", ""}));
  CHECK(seen() == 3);
  REQUIRE((*db)->flush());
  CHECK(seen() == 4);
  REQUIRE((*db)->flush());  // nothing open: harmless
  REQUIRE((*ledger)->record("d5", {5, "gw", ""}));
  ledger->reset();
  db->reset();  // closing commits the open group
  CHECK(seen() == 5);
  fs::remove_all(dir);
}

TEST_CASE("group commit: a group older than group_age is committed by the next write") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-group-age-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto file = dir / "grouped.sqlite";
  auto db = SqliteDb::open(file, {.group_writes = 1000, .group_age = std::chrono::milliseconds(1)});
  REQUIRE(db);
  auto ledger = SentLedger::open(*db);
  REQUIRE(ledger);
  REQUIRE((*ledger)->record("d1", {1, "gw", ""}));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE((*ledger)->record("d2", {2, "gw", ""}));
  auto other = open_ledger(file);
  REQUIRE(other);
  CHECK((*other)->size() == 2);
  fs::remove_all(dir);
}
