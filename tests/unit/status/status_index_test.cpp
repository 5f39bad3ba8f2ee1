// The status index on its own (no Kafka): records applied directly, the
// in-memory view's rules, the incremental counts against EventStatusBuilder,
// the failures selectors, recent events, metrics counts, digest runs, and the
// schema version.
#include "engine/status/status_index.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <boost/json/serialize.hpp>

#include <filesystem>
#include <unistd.h>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

struct TempIndex {
  fs::path dir = fs::temp_directory_path() / ("sunbeam-status-index-" + std::to_string(::getpid()));
  fs::path file = dir / "test-status.sqlite";
  std::unique_ptr<StatusIndex> index;

  TempIndex() {
    fs::remove_all(dir);
    reopen();
  }
  ~TempIndex() {
    index.reset();
    fs::remove_all(dir);
  }
  void reopen() {
    index.reset();
    auto opened = StatusIndex::open(file);
    REQUIRE(opened);
    index = std::move(*opened);
  }
  void apply(std::vector<StatusIndex::Input> inputs) { REQUIRE(index->apply(inputs)); }
};

StatusRecord record(std::string id, DeliveryState state, std::int64_t time_ms = 0, std::string reason = {},
                    std::string event = "e1", std::string connector = "gateway", int attempt = 1) {
  StatusRecord r;
  r.delivery_id = std::move(id);
  r.event_id = std::move(event);
  r.event_type = "notice";
  r.account = "A-" + r.delivery_id;
  r.tier = "basic";
  r.channel = "sms";
  r.connector = std::move(connector);
  r.attempt = attempt;
  r.state = state;
  r.reason = std::move(reason);
  r.time_ms = time_ms;
  return r;
}

StatusTopicRecord wrap(StatusRecord r) { return StatusTopicRecord{std::move(r), std::nullopt, std::nullopt}; }
StatusTopicRecord wrap(FanoutSummary s) { return StatusTopicRecord{std::nullopt, std::move(s), std::nullopt}; }
StatusTopicRecord wrap(DigestRun d) { return StatusTopicRecord{std::nullopt, std::nullopt, std::move(d)}; }

std::vector<std::string> ids(const FailurePage& page) {
  std::vector<std::string> out;
  for (const auto& r : page.rows) out.push_back(r.delivery_id);
  return out;
}

}  // namespace

TEST_CASE("the index's counts are the builder's, record for record, across batches") {
  TempIndex t;
  // One sequence with every rule in it: suppressed with reasons, a re-sent
  // delivery, deferral then sent, a receipt before its `sent`, a failure, a
  // second fan-out summary, and a second tier and channel.
  std::vector<StatusTopicRecord> sequence{
      wrap(record("s1", DeliveryState::suppressed, 1, "opt_out")),
      wrap(record("s2", DeliveryState::suppressed, 1, "")),
      wrap(FanoutSummary{"e1", "notice", {{"basic", "sms", 4, 1, 2}, {"advisor", "email", 1, 0, 0}}, 5}),
      wrap(record("d1", DeliveryState::sent, 10)),
      wrap(record("d2", DeliveryState::deferred, 11, "quiet_hours")),
      wrap(record("d3", DeliveryState::delivered, 12)),
      wrap(record("d3", DeliveryState::sent, 13)),  // the receipt came first: ignored
      wrap(record("d1", DeliveryState::sent, 14)),  // re-recorded after a restart
      wrap(record("d2", DeliveryState::sent, 15)),
      wrap(record("d4", DeliveryState::failed, 16, "http 503")),
  };
  StatusRecord email = record("m1", DeliveryState::sent, 17);
  email.tier = "advisor";
  email.channel = "email";
  sequence.push_back(wrap(email));
  sequence.push_back(wrap(FanoutSummary{"e1", "notice", {{"basic", "sms", 4, 1, 2}}, 18}));

  EventStatusBuilder builder("e1");
  std::map<std::string, DeliveryState> latest;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    const auto& r = sequence[i];
    if (r.fanout) builder.apply(*r.fanout);
    if (r.delivery) {
      auto it = latest.find(r.delivery->delivery_id);
      const bool receipt_first = it != latest.end() &&
                                 (it->second == DeliveryState::delivered || it->second == DeliveryState::undelivered) &&
                                 r.delivery->state == DeliveryState::sent;
      if (!receipt_first) {
        builder.apply(*r.delivery, it == latest.end() ? std::nullopt : std::optional(it->second));
        latest[r.delivery->delivery_id] = r.delivery->state;
      }
    }
    // Batches of 3 records, so some count changes meet inside one batch.
    if (i % 3 == 2 || i + 1 == sequence.size()) {
      std::vector<StatusIndex::Input> batch;
      for (std::size_t j = i - (i % 3); j <= i; ++j) batch.emplace_back(sequence[j]);
      t.apply(batch);
    }
  }
  const auto status = t.index->event("e1");
  REQUIRE(status);
  CHECK(boost::json::serialize(status->to_json()) == boost::json::serialize(builder.status().to_json()));
  const auto totals = status->totals();
  CHECK(totals.count(DeliveryState::sent) == 3);
  CHECK(totals.count(DeliveryState::delivered) == 1);
  CHECK(totals.suppressed_by_reason.at("opt_out") == 1);
  CHECK(totals.suppressed_by_reason.at("unknown") == 1);
  CHECK(status->fanouts == 2);
  CHECK_FALSE(t.index->event("nope"));

  // It all survives closing and opening the file.
  t.reopen();
  CHECK_FALSE(t.index->rebuilt());
  const auto again = t.index->event("e1");
  REQUIRE(again);
  CHECK(boost::json::serialize(again->to_json()) == boost::json::serialize(builder.status().to_json()));
}

TEST_CASE("a receipt recorded before its `sent` stands, in one batch or across two") {
  TempIndex t;
  t.apply({wrap(record("d1", DeliveryState::undelivered, 2)), wrap(record("d1", DeliveryState::sent, 1))});
  t.apply({wrap(record("d2", DeliveryState::delivered, 2))});
  t.apply({wrap(record("d2", DeliveryState::sent, 1))});
  const auto s = t.index->event("e1")->totals();
  CHECK(s.count(DeliveryState::undelivered) == 1);
  CHECK(s.count(DeliveryState::delivered) == 1);
  CHECK(s.count(DeliveryState::sent) == 0);
}

TEST_CASE("failures: newest first, the total beside the page, each selector and their combination") {
  TempIndex t;
  std::vector<StatusIndex::Input> batch;
  // 30 failures over three events, two connectors, two reasons, one per second.
  for (int i = 0; i < 30; ++i) {
    const std::string event = "e" + std::to_string(i % 3);
    const std::string connector = i % 2 ? "backup" : "gateway";
    const std::string reason = i % 5 == 0 ? "gateway: invalid number" : "http 503 after 5 attempts";
    batch.emplace_back(wrap(record("f" + std::to_string(i), DeliveryState::failed, 1000 * i, reason, event, connector, 5)));
  }
  // Not failures: sent, and a failure that was later sent after all.
  batch.emplace_back(wrap(record("ok", DeliveryState::sent, 500)));
  batch.emplace_back(wrap(record("healed", DeliveryState::failed, 600)));
  batch.emplace_back(wrap(record("healed", DeliveryState::sent, 700)));
  t.apply(batch);

  const auto all = t.index->failures({}, 100);
  CHECK(all.total == 30);
  REQUIRE(all.rows.size() == 30);
  CHECK(all.rows.front().delivery_id == "f29");
  CHECK(all.rows.back().delivery_id == "f0");
  const auto& row = all.rows.front();
  CHECK(row.event_id == "e2");
  CHECK(row.account == "A-f29");
  CHECK(row.connector == "backup");
  CHECK(row.attempt == 5);
  CHECK(row.reason == "http 503 after 5 attempts");
  CHECK(row.time_ms == 29000);
  CHECK(row.tier == "basic");
  CHECK(row.channel == "sms");
  CHECK(row.event_type == "notice");

  const auto page = t.index->failures({}, 4);
  CHECK(page.total == 30);
  CHECK(ids(page) == std::vector<std::string>{"f29", "f28", "f27", "f26"});

  FailureSelector by_event;
  by_event.event_id = "e1";
  const auto e1 = t.index->failures(by_event, 3);
  CHECK(e1.total == 10);
  CHECK(ids(e1) == std::vector<std::string>{"f28", "f25", "f22"});

  FailureSelector window;
  window.since_ms = 10000;
  window.until_ms = 12000;  // both ends included
  CHECK(ids(t.index->failures(window, 100)) == std::vector<std::string>{"f12", "f11", "f10"});
  FailureSelector since;
  since.since_ms = 28000;
  CHECK(t.index->failures(since, 100).total == 2);
  FailureSelector until;
  until.until_ms = 1000;
  CHECK(ids(t.index->failures(until, 100)) == std::vector<std::string>{"f1", "f0"});

  FailureSelector by_connector;
  by_connector.connector = "gateway";
  CHECK(t.index->failures(by_connector, 100).total == 15);

  FailureSelector by_reason;
  by_reason.reason = "invalid number";
  CHECK(ids(t.index->failures(by_reason, 100)) ==
        std::vector<std::string>{"f25", "f20", "f15", "f10", "f5", "f0"});

  FailureSelector combined;
  combined.event_id = "e0";
  combined.connector = "gateway";
  combined.reason = "invalid";
  combined.since_ms = 1000;
  CHECK(ids(t.index->failures(combined, 100)) == std::vector<std::string>{});
  combined.since_ms.reset();
  CHECK(ids(t.index->failures(combined, 100)) == std::vector<std::string>{"f0"});

  FailureSelector nothing;
  nothing.connector = "no such connector";
  CHECK(t.index->failures(nothing, 100).total == 0);
}

TEST_CASE("a replay's `planned` moves a failed delivery out of failed; a stale or foreign `planned` does not") {
  TempIndex t;
  t.apply({wrap(FanoutSummary{"e1", "notice", {{"basic", "sms", 3, 0, 0}}, 1}),
           wrap(record("d1", DeliveryState::failed, 10, "http 503", "e1", "gateway", 5)),
           wrap(record("d2", DeliveryState::failed, 10, "http 503", "e1", "gateway", 5)),
           wrap(record("d3", DeliveryState::sent, 10))});
  CHECK(t.index->event("e1")->totals().waiting() == 0);
  CHECK(t.index->failures({}, 10).total == 2);

  t.apply({// A replay of d1 as attempt 6.
           wrap(record("d1", DeliveryState::planned, 20, "replay r-1", "e1", "", 6)),
           // Not a replay's: ignored.
           wrap(record("d2", DeliveryState::planned, 20, "", "e1", "", 6)),
           // A replay's, but d3 is not failed: ignored.
           wrap(record("d3", DeliveryState::planned, 20, "replay r-1", "e1", "", 2))});
  auto totals = t.index->event("e1")->totals();
  CHECK(totals.count(DeliveryState::failed) == 1);
  CHECK(totals.count(DeliveryState::planned) == 1);
  CHECK(totals.count(DeliveryState::sent) == 1);
  CHECK(totals.waiting() == 1);  // the re-queued one waits again
  CHECK(ids(t.index->failures({}, 10)) == std::vector<std::string>{"d2"});

  // The new attempt fails again before its replay's `planned` is read: the
  // late `planned` (same attempt) must not hide that failure.
  t.apply({wrap(record("d2", DeliveryState::failed, 30, "http 503", "e1", "gateway", 6)),
           wrap(record("d2", DeliveryState::planned, 25, "replay r-2", "e1", "", 6))});
  CHECK(ids(t.index->failures({}, 10)) == std::vector<std::string>{"d2"});

  // The replayed d1 is sent: its connector is the sender's again.
  t.apply({wrap(record("d1", DeliveryState::sent, 40, "", "e1", "backup", 6))});
  totals = t.index->event("e1")->totals();
  CHECK(totals.count(DeliveryState::sent) == 2);
  CHECK(totals.count(DeliveryState::planned) == 0);
  CHECK(totals.waiting() == 0);
}

TEST_CASE("recent events: newest first by fan-out time, with totals and the operator's cancel") {
  TempIndex t;
  t.apply({wrap(FanoutSummary{"old", "notice", {{"basic", "sms", 2, 0, 0}}, 100}),
           wrap(record("o1", DeliveryState::sent, 150, "", "old")),
           wrap(FanoutSummary{"new", "risk_alert", {{"basic", "sms", 1, 0, 0}}, 300}),
           // No summary yet: its first record's time places it.
           wrap(record("m1", DeliveryState::suppressed, 200, "opt_out", "middle"))});
  REQUIRE(t.index->mark_cancelled("old", 400));
  REQUIRE(t.index->mark_cancelled("old", 500));  // the first order's time is kept
  const auto recent = t.index->recent_events(10);
  REQUIRE(recent.size() == 3);
  CHECK(recent[0].status.event_id == "new");
  CHECK(recent[0].status.event_type == "risk_alert");
  CHECK(recent[0].time_ms == 300);
  CHECK_FALSE(recent[0].cancelled);
  CHECK(recent[1].status.event_id == "middle");
  CHECK_FALSE(recent[1].status.fanned_out);
  CHECK(recent[2].status.event_id == "old");
  CHECK(recent[2].cancelled);
  CHECK(recent[2].cancelled_at_ms == 400);
  CHECK(recent[2].status.totals().count(DeliveryState::sent) == 1);
  CHECK(recent[2].status.totals().waiting() == 1);
  CHECK(t.index->recent_events(1).size() == 1);
}

TEST_CASE("delivery counts by state, tier, channel and connector, with the planned ones from the summaries") {
  TempIndex t;
  StatusRecord email = record("m1", DeliveryState::sent, 5, "", "e1", "smtp");
  email.tier = "advisor";
  email.channel = "email";
  t.apply({wrap(FanoutSummary{"e1", "notice", {{"basic", "sms", 5, 0, 1}, {"advisor", "email", 1, 0, 0}}, 1}),
           wrap(FanoutSummary{"e2", "notice", {{"basic", "sms", 2, 1, 0}}, 1}),
           wrap(record("s1", DeliveryState::suppressed, 2, "opt_out")),
           wrap(record("d1", DeliveryState::sent, 2)), wrap(record("d2", DeliveryState::sent, 2)),
           wrap(record("d3", DeliveryState::sent, 2, "", "e1", "gateway")),
           wrap(record("d3", DeliveryState::failed, 3, "", "e1", "backup")), wrap(email)});
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::int64_t> got;
  for (const auto& c : t.index->delivery_counts())
    got[{std::string(to_string(c.state)), c.tier, c.channel, c.connector}] = c.count;
  const decltype(got) expected{
      {{"planned", "basic", "sms", ""}, 2 + 2},  // e1: 6 planned, 4 recorded; e2: 3 planned, 1 for the digest
      {{"sent", "basic", "sms", "gateway"}, 2},
      {{"failed", "basic", "sms", "backup"}, 1},
      {{"suppressed", "basic", "sms", "gateway"}, 1},
      {{"sent", "advisor", "email", "smtp"}, 1},
  };
  CHECK(got == expected);
}

TEST_CASE("digest runs: newest first, one per date (the latest record)") {
  TempIndex t;
  t.apply({wrap(DigestRun{"2026-11-24", "schedule", "sent", 10, 12, 30, 0, 100}),
           wrap(DigestRun{"2026-11-25", "schedule", "skipped", 0, 0, 0, 0, 200}),
           wrap(DigestRun{"2026-11-25", "now", "sent", 5, 6, 7, 1, 300})});
  const auto runs = t.index->digest_runs(10);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].date == "2026-11-25");
  CHECK(runs[0].trigger == "now");
  CHECK(runs[0].items == 7);
  CHECK(runs[0].expired == 1);
  CHECK(runs[1].date == "2026-11-24");
  CHECK(t.index->digest_runs(1).size() == 1);
  const auto one = t.index->digest_run("2026-11-24");
  REQUIRE(one);
  CHECK(one->messages == 12);
  CHECK(one->time_ms == 100);
  CHECK_FALSE(t.index->digest_run("2026-11-23"));
}

TEST_CASE("positions are stored with their batch; another schema version is emptied, cancels are kept") {
  TempIndex t;
  REQUIRE(t.index->rebuilt());
  REQUIRE(t.index->apply({wrap(record("d1", DeliveryState::sent, 1))}, {{"status", 0, 42}, {"dlq", 1, 7}}));
  REQUIRE(t.index->mark_cancelled("e1", 9));
  t.reopen();
  CHECK_FALSE(t.index->rebuilt());
  auto positions = t.index->positions();
  REQUIRE(positions.size() == 2);
  std::map<std::pair<std::string, int>, std::int64_t> at;
  for (const auto& p : positions) at[{p.topic, p.partition}] = p.offset;
  CHECK(at[{"status", 0}] == 42);
  CHECK(at[{"dlq", 1}] == 7);

  // A file written by another version of the index.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(t.file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE meta SET value = '0' WHERE key = 'schema_version'", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
  }
  t.reopen();
  CHECK(t.index->rebuilt());
  CHECK(t.index->positions().empty());
  CHECK_FALSE(t.index->event("e1"));
  // The cancel survives: it came from an operator, not from the topics.
  t.apply({wrap(record("d1", DeliveryState::sent, 1))});
  const auto recent = t.index->recent_events(1);
  REQUIRE(recent.size() == 1);
  CHECK(recent[0].cancelled);
}

TEST_CASE("replay counts: each replay's deliveries by state, in whichever order the planned record and the outcome land") {
  TempIndex t;
  const auto at = [](std::array<std::int64_t, delivery_state_count> a, DeliveryState s) { return a[std::size_t(s)]; };
  // d1: replayed by r-1, then sent.
  t.apply({wrap(record("d1", DeliveryState::failed, 1, "http 503", "e1", "gateway", 5)),
           wrap(record("d1", DeliveryState::planned, 2, "replay r-1", "e1", "", 6)),
           wrap(record("d1", DeliveryState::sent, 3, "", "e1", "gateway", 6))});
  // d2: replayed by r-1, failed again, replayed by r-2 (still waiting).
  t.apply({wrap(record("d2", DeliveryState::failed, 1, "http 503", "e1", "gateway", 5)),
           wrap(record("d2", DeliveryState::planned, 2, "replay r-1", "e1", "", 6))});
  t.apply({wrap(record("d2", DeliveryState::failed, 3, "http 503", "e1", "gateway", 6)),
           wrap(record("d2", DeliveryState::planned, 4, "replay r-2", "e1", "", 7))});
  // d3: r-2's attempt is sent before r-2's planned record lands.
  t.apply({wrap(record("d3", DeliveryState::failed, 1, "http 503", "e1", "gateway", 5)),
           wrap(record("d3", DeliveryState::sent, 3, "", "e1", "gateway", 6)),
           wrap(record("d3", DeliveryState::planned, 2, "replay r-2", "e1", "", 6))});
  // d4: replayed by r-1, failed again; r-3's attempt is sent before its planned record.
  t.apply({wrap(record("d4", DeliveryState::failed, 1, "http 503", "e1", "gateway", 5)),
           wrap(record("d4", DeliveryState::planned, 2, "replay r-1", "e1", "", 6)),
           wrap(record("d4", DeliveryState::failed, 3, "http 503", "e1", "gateway", 6)),
           wrap(record("d4", DeliveryState::sent, 5, "", "e1", "gateway", 7))});
  t.apply({wrap(record("d4", DeliveryState::planned, 4, "replay r-3", "e1", "", 7))});

  const auto r1 = t.index->replay_states("r-1");
  CHECK(at(r1, DeliveryState::sent) == 1);    // d1
  CHECK(at(r1, DeliveryState::failed) == 2);  // d2 and d4: their r-1 attempts failed, whatever came after
  CHECK(at(r1, DeliveryState::planned) == 0);
  const auto r2 = t.index->replay_states("r-2");
  CHECK(at(r2, DeliveryState::planned) == 1);  // d2
  CHECK(at(r2, DeliveryState::sent) == 1);     // d3
  const auto r3 = t.index->replay_states("r-3");
  CHECK(at(r3, DeliveryState::sent) == 1);  // d4
  CHECK(at(r3, DeliveryState::planned) == 0);
  CHECK(at(t.index->replay_states("r-none"), DeliveryState::sent) == 0);
  // And the event's counts saw each delivery once.
  const auto totals = t.index->event("e1")->totals();
  CHECK(totals.count(DeliveryState::sent) == 3);
  CHECK(totals.count(DeliveryState::planned) == 1);
  CHECK(totals.count(DeliveryState::failed) == 0);
}
