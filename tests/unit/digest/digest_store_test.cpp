// The digest's store: an item is kept once however often it is read; a plan
// folds the pending items per account and channel, in order; a run half
// produced when the process stopped is finished from what the file says.
#include "engine/digest/digest_store.h"
#include "tests/unit/digest/digest_items.h"

#include "tests/support/doctest_result.h"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unistd.h>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

struct StoreFile {
  fs::path path = fs::temp_directory_path() / ("sunbeam-digest-store-" + std::to_string(::getpid())) / "d.sqlite";
  StoreFile() { fs::remove_all(path.parent_path()); }
  ~StoreFile() { fs::remove_all(path.parent_path()); }
  std::unique_ptr<DigestStore> open() const {
    auto db = SqliteDb::open(path);
    REQUIRE(db);
    auto store = DigestStore::open(*db);
    REQUIRE(store);
    return std::move(*store);
  }
};

ItemToStore item(const Delivery& d, std::int64_t arrived_ms, bool cancelled = false) {
  return ItemToStore{d, serialize(d), arrived_ms, cancelled};
}

// A build that names each group by its account, channel and items' events.
Delivery digest_of(const std::vector<HeldItem>& items) {
  Delivery d = items.front().delivery;
  d.event_id = "digest:2026-11-12";
  d.event_type = "digest";
  d.delivery_id = make_delivery_id(d.event_id, d.account, d.channel);
  boost::json::array events;
  for (const auto& i : items) events.emplace_back(i.delivery.event_id);
  d.data = {{"events", events}};
  return d;
}

std::string topic_of(const Delivery& d) { return "deliveries." + d.tier; }

}  // namespace

TEST_CASE("an item read twice is stored once; a cancelled one is stored ended") {
  StoreFile file;
  auto store = file.open();
  const auto a = test::follow_up("A1", "e1", "2026-11-11T09:00:00+08:00");
  const auto b = test::follow_up("A1", "e2", "2026-11-11T10:00:00+08:00");
  auto added = store->add({item(a, 100), item(b, 100)});
  REQUIRE(added);
  CHECK(*added == 2);
  added = store->add({item(a, 200), item(test::follow_up("A2", "e3", "2026-11-11T09:00:00+08:00"), 200, true)});
  REQUIRE(added);
  CHECK(*added == 1);
  CHECK(store->count("pending") == 2);
  CHECK(store->count("cancelled") == 1);
  const auto owed = store->unrecorded_items(10);
  REQUIRE(owed.size() == 1);
  CHECK(owed[0].event_id == "e3");
  CHECK(owed[0].state == DeliveryState::cancelled);
  CHECK(owed[0].reason == "cancelled by an operator");
  REQUIRE(store->mark_items_recorded({owed[0].delivery_id}));
  CHECK(store->unrecorded_items(10).empty());
}

TEST_CASE("a plan folds each account's items per channel in occurred_at order, and expires lapsed ones") {
  StoreFile file;
  auto store = file.open();
  auto lapsed = test::follow_up("A1", "old", "2026-11-10T09:00:00+08:00");
  lapsed.expires_at_ms = 500;
  REQUIRE(store->add({
      item(test::follow_up("A1", "late", "2026-11-11T15:00:00+08:00"), 100),
      item(test::follow_up("A2", "x", "2026-11-11T09:00:00+08:00"), 100),
      item(test::follow_up("A1", "early", "2026-11-11T09:00:00+08:00"), 100),
      item(test::follow_up("A1", "mail", "2026-11-11T09:30:00+08:00", Channel::email), 100),
      item(lapsed, 100),
  }));
  auto counts = store->plan("2026-11-12", "schedule", 1000, digest_of, topic_of);
  REQUIRE(counts);
  CHECK(counts->accounts == 2);
  CHECK(counts->messages == 3);
  CHECK(counts->items == 4);
  CHECK(counts->expired == 1);
  CHECK(store->count("pending") == 0);
  CHECK(store->count("planned") == 4);
  const auto run = store->run("2026-11-12");
  REQUIRE(run);
  CHECK(run->run.state == "sending");
  CHECK(run->run.trigger == "schedule");

  const auto digests = store->unproduced("2026-11-12", 10);
  REQUIRE(digests.size() == 3);
  std::map<std::string, std::string> events;  // account/channel -> the events it carries
  for (const auto& d : digests) {
    auto parsed = parse_delivery(d.json);
    REQUIRE(parsed);
    CHECK(d.topic == "deliveries.advisor");
    CHECK(d.account == parsed->account);
    events[parsed->account + "/" + std::string(to_string(parsed->channel))] =
        boost::json::serialize(parsed->data.at("events"));
  }
  CHECK(events["A1/sms"] == R"(["early","late"])");
  CHECK(events["A1/email"] == R"(["mail"])");
  CHECK(events["A2/sms"] == R"(["x"])");
  const auto owed = store->unrecorded_items(10);
  REQUIRE(owed.size() == 1);
  CHECK(owed[0].event_id == "old");
  CHECK(owed[0].state == DeliveryState::expired);
}

TEST_CASE("a run half produced when the process stopped is finished with only what Kafka lacks") {
  StoreFile file;
  std::vector<std::string> first_half;
  {
    auto store = file.open();
    std::vector<ItemToStore> items;
    for (int i = 0; i < 10; ++i)
      items.push_back(item(test::follow_up("A" + std::to_string(i), "e", "2026-11-11T09:00:00+08:00"), 100));
    REQUIRE(store->add(items));
    REQUIRE(store->plan("2026-11-12", "schedule", 1000, digest_of, topic_of));
    for (const auto& d : store->unproduced("2026-11-12", 4)) first_half.push_back(d.delivery_id);
    REQUIRE(store->mark_produced(first_half, 2000));
    CHECK(store->count("folded") == 4);
  }  // the process stops here
  auto store = file.open();
  CHECK(store->runs_sending() == std::vector<std::string>{"2026-11-12"});
  const auto rest = store->unproduced("2026-11-12", 100);
  CHECK(rest.size() == 6);
  for (const auto& d : rest)
    CHECK(std::find(first_half.begin(), first_half.end(), d.delivery_id) == first_half.end());
  std::vector<std::string> ids;
  for (const auto& d : rest) ids.push_back(d.delivery_id);
  REQUIRE(store->mark_produced(ids, 3000));
  REQUIRE(store->finish_run("2026-11-12", 3000));
  CHECK(store->count("folded") == 10);
  CHECK(store->runs_sending().empty());
  const auto runs = store->unrecorded_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].state == "sent");
  CHECK(runs[0].messages == 10);
  CHECK(runs[0].items == 10);
  REQUIRE(store->mark_run_recorded("2026-11-12"));
  CHECK(store->unrecorded_runs().empty());
}

TEST_CASE("a missed day expires what arrived before its digest time; later items wait") {
  StoreFile file;
  auto store = file.open();
  REQUIRE(store->add({item(test::follow_up("A1", "before", "2026-11-11T15:00:00+08:00"), 1000),
                      item(test::follow_up("A1", "after", "2026-11-12T09:10:00+08:00"), 3000)}));
  auto n = store->expire_missed("2026-11-12", "catch_up", 2000, "missed", 4000);
  REQUIRE(n);
  CHECK(*n == 1);
  CHECK(store->count("pending") == 1);
  const auto run = store->run("2026-11-12");
  REQUIRE(run);
  CHECK(run->run.state == "expired");
  CHECK(run->run.expired == 1);
  CHECK_FALSE(run->recorded);
}

TEST_CASE("cancelling an event ends its pending items only; the schedule's next date is kept") {
  StoreFile file;
  auto store = file.open();
  REQUIRE(store->add({item(test::follow_up("A1", "bad", "2026-11-11T09:00:00+08:00"), 1),
                      item(test::follow_up("A2", "bad", "2026-11-11T09:00:00+08:00"), 1),
                      item(test::follow_up("A1", "good", "2026-11-11T09:00:00+08:00"), 1)}));
  auto n = store->cancel_event("bad", "cancelled by an operator", 5);
  REQUIRE(n);
  CHECK(*n == 2);
  n = store->cancel_event("bad", "cancelled by an operator", 6);
  REQUIRE(n);
  CHECK(*n == 0);
  CHECK(store->count("pending") == 1);
  CHECK(store->count("cancelled") == 2);

  CHECK_FALSE(store->next_date());
  REQUIRE(store->set_next_date("2026-11-13"));
  CHECK(file.open()->next_date() == "2026-11-13");
}
