// Replays on librdkafka's mock cluster: failures are written to `status` and
// `dlq` as dispatch writes them, the status view indexes them, the replay
// service re-queues them, and the tier topics are read back to count what
// was re-queued. Dispatch itself is played by the test (it writes the
// outcome records of the new attempts).
#include "engine/replay/replay_service.h"

#include "engine/core/delivery.h"
#include "engine/core/time_format.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/embedded_cluster.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"
#include "tests/support/test_time.h"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <unistd.h>

using namespace sunbeam;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::at;

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  return done();
}

struct Harness {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientSettings settings;
  Config config = test::small_config();
  kafka::Topics topics;
  ManualClock clock{at("2026-11-25T10:00:00+08:00")};
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<StatusView> view;
  std::unique_ptr<ReplayService> replays;
  fs::path storage = fs::temp_directory_path() / ("sunbeam-replay-" + std::to_string(::getpid()));

  Harness() {
    fs::remove_all(storage);
    auto c = kafka::EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
    config.kafka.instance_id = "replay-test";
    config.storage = storage;
    topics = kafka::Topics::from(config);
    for (const auto& t : topics.all()) REQUIRE(cluster->create_topic(t, 1));
    auto p = kafka::Producer::create(settings, "replay-test", kafka::Producer::Mode::idempotent);
    REQUIRE(p);
    producer = std::move(*p);
  }
  ~Harness() {
    stop();
    producer.reset();
    fs::remove_all(storage);
  }

  void start(bool with_service = true) {
    view = std::make_unique<StatusView>(config, settings, topics);
    REQUIRE(view->start());
    REQUIRE(eventually([&] { return view->caught_up(); }));
    if (!with_service) return;
    replays = std::make_unique<ReplayService>(*view, *producer, topics, config, clock);
    REQUIRE(replays->resume());
  }
  void stop() {
    if (replays) replays->stop();
    replays.reset();
    if (view) view->stop();
    view.reset();
  }

  Delivery delivery(const std::string& event, const std::string& account, const std::string& tier = "basic") {
    Delivery d;
    d.event_id = event;
    d.event_type = "notice";
    d.account = account;
    d.tier = tier;
    d.channel = Channel::sms;
    d.delivery_id = make_delivery_id(event, account, d.channel);
    d.occurred_at = "2026-11-25T09:00:00+08:00";
    d.recipient = {"张伟", "+8613800000001", "zh-CN", "", {}};
    d.data = {{"title", "休市安排"}};
    return d;
  }
  StatusRecord record(const Delivery& d, DeliveryState state, const std::string& connector, std::string reason = {}) {
    StatusRecord r;
    r.delivery_id = d.delivery_id;
    r.event_id = d.event_id;
    r.event_type = d.event_type;
    r.account = d.account;
    r.channel = std::string(to_string(d.channel));
    r.connector = connector;
    r.tier = d.tier;
    r.attempt = d.attempt;
    r.state = state;
    r.reason = std::move(reason);
    r.time_ms = unix_ms(clock.now());
    return r;
  }
  // What dispatch writes when it gives up (DispatchRole::fail); without the
  // dead letter when `letter` is false (a digest item's failure has none).
  void fail(const Delivery& d, const std::string& connector, const std::string& error, bool letter = true) {
    if (letter) {
      boost::json::object dead{{"delivery", to_json(d)},
                               {"connector", connector},
                               {"attempts", d.attempt},
                               {"last_error", error},
                               {"first_attempt_at", format_rfc3339_utc(unix_ms(clock.now()) - 1000)},
                               {"failed_at", format_rfc3339_utc(unix_ms(clock.now()))}};
      REQUIRE(producer->produce(topics.dlq, d.event_id, boost::json::serialize(dead)));
    }
    REQUIRE(producer->produce(topics.status, d.event_id, serialize(record(d, DeliveryState::failed, connector, error))));
    REQUIRE(producer->flush(10s));
  }
  void outcome(const Delivery& d, DeliveryState state, const std::string& connector) {
    REQUIRE(producer->produce(topics.status, d.event_id, serialize(record(d, state, connector))));
    REQUIRE(producer->flush(10s));
  }
  void summary(const std::string& event, const std::string& tier, std::int64_t planned) {
    REQUIRE(producer->produce(topics.status, event,
                              serialize(FanoutSummary{event, "notice", {{tier, "sms", planned, 0, 0}}, unix_ms(clock.now())})));
    REQUIRE(producer->flush(10s));
  }

  // Every delivery on a tier's topic, read from the beginning (bounded).
  std::vector<std::pair<std::string, Delivery>> tier_topic(const std::string& tier) {
    auto c = kafka::Consumer::create(settings, {"tier-reader", "tier-reader", true});
    REQUIRE(c);
    REQUIRE((*c)->assign_from_beginning(topics.deliveries_for(*config.tier_index(tier))));
    std::vector<std::pair<std::string, Delivery>> out;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && !(*c)->caught_up())
      for (auto& m : (*c)->poll_batch(500, 50ms)) {
        auto d = parse_delivery(m.value);
        REQUIRE(d);
        out.emplace_back(m.key, std::move(*d));
      }
    return out;
  }
  std::map<std::string, int> count_by_id(const std::string& tier) {
    std::map<std::string, int> n;
    for (const auto& [key, d] : tier_topic(tier)) ++n[d.delivery_id];
    return n;
  }
};

FailureSelector by_connector(std::string name) {
  FailureSelector s;
  s.connector = std::move(name);
  return s;
}

}  // namespace

TEST_CASE("a replay re-queues each selected failed delivery once, as its next attempt; run again it queues nothing") {
  Harness h;
  h.summary("e1", "basic", 5);
  auto d1 = h.delivery("e1", "A1"), d2 = h.delivery("e1", "A2"), d3 = h.delivery("e1", "A3"),
       d4 = h.delivery("e1", "A4"), d5 = h.delivery("e1", "A5");
  for (auto* d : {&d1, &d2, &d3, &d5}) d->attempt = 5;
  h.fail(d1, "gateway", "http 503");
  h.fail(d2, "gateway", "gateway: invalid number");
  h.fail(d3, "backup", "http 503");
  h.outcome(d4, DeliveryState::sent, "gateway");
  h.fail(d5, "gateway", "digest item", /*letter=*/false);  // no dead letter: nothing to re-queue
  h.start();
  REQUIRE(h.view->failures({}, 10).total == 4);

  // Dry runs.
  CHECK(h.replays->plan(by_connector("gateway")).value() == 2);
  CHECK(h.replays->plan(by_connector("backup")).value() == 1);
  FailureSelector by_reason;
  by_reason.reason = "503";
  CHECK(h.replays->plan(by_reason).value() == 2);
  FailureSelector everything;
  everything.all = true;
  CHECK(h.replays->plan(everything).value() == 3);
  CHECK(h.count_by_id("basic").empty());  // a dry run queues nothing

  auto started = h.replays->start(by_connector("gateway"));
  REQUIRE(started);
  CHECK(started->replay_id.starts_with("r-"));
  CHECK(started->matched == 2);
  // The same selector at once, before the index has read what the first one
  // produced, matches nothing: those failures are taken.
  auto again = h.replays->start(by_connector("gateway"));
  REQUIRE(again);
  CHECK(again->matched == 0);
  CHECK(again->replay_id != started->replay_id);

  REQUIRE(eventually([&] { return h.replays->progress(started->replay_id)->queued == 2; }));
  auto queued = h.tier_topic("basic");
  REQUIRE(queued.size() == 2);
  for (const auto& [key, d] : queued) {
    CHECK((d.delivery_id == d1.delivery_id || d.delivery_id == d2.delivery_id));
    CHECK(key == d.account);
    CHECK(d.attempt == 6);
    CHECK(d.recipient.address == "+8613800000001");  // the dead letter's delivery, whole
  }
  // The index reads the replay's `planned` records: out of failed, waiting again.
  REQUIRE(eventually([&] { return h.view->failures({}, 10).total == 2; }));
  CHECK(h.view->event("e1")->totals().waiting() == 2);

  auto p = h.replays->progress(started->replay_id);
  REQUIRE(p);
  CHECK(p->matched == 2);
  CHECK(p->queued == 2);
  CHECK(p->pending == 2);
  CHECK(p->sent + p->failed == 0);
  CHECK_FALSE(p->done);
  CHECK(p->selector.connector == "gateway");
  CHECK(p->created_at_ms == unix_ms(h.clock.now()));

  // Dispatch answers: d1 sent, d2 failed again.
  d1.attempt = d2.attempt = 6;
  h.outcome(d1, DeliveryState::sent, "gateway");
  REQUIRE(eventually([&] { return h.replays->progress(started->replay_id)->sent == 1; }));
  CHECK_FALSE(h.replays->progress(started->replay_id)->done);
  h.clock.advance(1min);
  h.fail(d2, "gateway", "gateway: invalid number");
  REQUIRE(eventually([&] { return h.replays->progress(started->replay_id)->done; }));
  p = h.replays->progress(started->replay_id);
  CHECK(p->sent == 1);
  CHECK(p->failed == 1);
  CHECK(p->pending == 0);
  // A receipt later changes nothing in the finished replay's counts.
  h.outcome(d1, DeliveryState::delivered, "gateway");
  REQUIRE(eventually([&] { return h.view->event("e1")->totals().count(DeliveryState::delivered) == 1; }));
  p = h.replays->progress(started->replay_id);
  CHECK(p->done);
  CHECK(p->sent == 1);

  // d2 failed again after its replay: a new replay may take it, as attempt 7.
  h.clock.advance(1min);
  auto third = h.replays->start(by_connector("gateway"));
  REQUIRE(third);
  CHECK(third->matched == 1);
  REQUIRE(eventually([&] { return h.replays->progress(third->replay_id)->queued == 1; }));
  const auto counts = h.count_by_id("basic");
  CHECK(counts.at(d1.delivery_id) == 1);
  CHECK(counts.at(d2.delivery_id) == 2);
  CHECK_FALSE(counts.contains(d3.delivery_id));
  int last_attempt = 0;
  for (const auto& [key, d] : h.tier_topic("basic"))
    if (d.delivery_id == d2.delivery_id) last_attempt = std::max(last_attempt, d.attempt);
  CHECK(last_attempt == 7);

  const auto recent = h.replays->recent(10);
  REQUIRE(recent.size() == 3);
  CHECK(recent[0].replay_id == third->replay_id);
  CHECK(recent[2].replay_id == started->replay_id);
  CHECK(recent[2].done);
  CHECK(recent[2].sent == 1);
}

TEST_CASE("an empty selector is refused; every failed delivery takes `all`") {
  Harness h;
  auto d = h.delivery("e1", "A1", "advisor");
  h.fail(d, "gateway", "http 503");
  h.start();
  const auto planned = h.replays->plan({});
  REQUIRE_FALSE(planned);
  CHECK(planned.error().code == "empty_selector");
  const auto started = h.replays->start({});
  REQUIRE_FALSE(started);
  CHECK(started.error().code == "empty_selector");
  std::optional<Result<ReplayStarted>> refused;
  h.replays->start_async({}, [&](Result<ReplayStarted> r) { refused = std::move(r); });
  REQUIRE(refused);  // answered at once, on this thread
  REQUIRE_FALSE(*refused);
  CHECK(refused->error().code == "empty_selector");
  CHECK(h.replays->recent(10).empty());

  // Recorded on the replay thread, for callers that must not wait.
  FailureSelector all;
  all.all = true;
  std::promise<Result<ReplayStarted>> answer;
  h.replays->start_async(all, [&](Result<ReplayStarted> r) { answer.set_value(std::move(r)); });
  auto future = answer.get_future();
  REQUIRE(future.wait_for(30s) == std::future_status::ready);
  auto r = future.get();
  REQUIRE(r);
  CHECK(r->matched == 1);
  REQUIRE(eventually([&] { return h.replays->progress(r->replay_id)->queued == 1; }));
  CHECK(h.count_by_id("advisor").at(d.delivery_id) == 1);  // to its own tier's topic
  CHECK(h.count_by_id("basic").empty());
}

TEST_CASE("replays selected by event and time; a replay cut short is finished by the next resume, once") {
  Harness h;
  std::vector<Delivery> failed;
  for (int i = 0; i < 6; ++i) {
    auto d = h.delivery(i < 4 ? "e1" : "e2", "A" + std::to_string(i));
    h.fail(d, "gateway", "http 503");
    failed.push_back(d);
    h.clock.advance(1min);
  }
  // The index and the replay's record, but no producing thread: as if the
  // process died right after the replay was recorded.
  h.start(/*with_service=*/false);
  auto store = ReplayStore::open(*h.view->index());
  REQUIRE(store);
  FailureSelector selector;
  selector.event_id = "e1";
  selector.since_ms = unix_ms(at("2026-11-25T10:01:00+08:00"));
  selector.until_ms = unix_ms(at("2026-11-25T10:02:00+08:00"));
  const auto matched = (*store)->create("r-cut-short", selector, unix_ms(h.clock.now()));
  REQUIRE(matched);
  CHECK(*matched == 2);  // A1 and A2
  CHECK((*store)->progress("r-cut-short")->queued == 0);

  h.replays = std::make_unique<ReplayService>(*h.view, *h.producer, h.topics, h.config, h.clock);
  REQUIRE(h.replays->resume());
  REQUIRE(eventually([&] { return h.replays->progress("r-cut-short")->queued == 2; }));
  store->reset();  // its statements live on the view's database
  // A second restart finds nothing left to do.
  h.stop();
  h.start();
  REQUIRE(eventually([&] { return h.view->failures({}, 10).total == 4; }));
  const auto counts = h.count_by_id("basic");
  CHECK(counts.size() == 2);
  CHECK(counts.at(failed[1].delivery_id) == 1);
  CHECK(counts.at(failed[2].delivery_id) == 1);
  CHECK(h.replays->plan(selector).value() == 0);
}
