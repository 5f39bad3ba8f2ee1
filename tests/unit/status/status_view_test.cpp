// The status view on librdkafka's mock cluster: it builds the index from the
// `status` and `dlq` topics when the file is missing, and after a restart
// resumes at the offsets stored with its rows, counting nothing twice.
#include "engine/status/status_view.h"

#include "engine/core/delivery.h"
#include "engine/core/time_format.h"
#include "engine/kafka/embedded_cluster.h"
#include "engine/kafka/producer.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

using namespace sunbeam;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Harness {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientSettings settings;
  Config config = test::small_config();
  kafka::Topics topics;
  std::unique_ptr<kafka::Producer> producer;
  fs::path storage = fs::temp_directory_path() / ("sunbeam-status-view-" + std::to_string(::getpid()));

  Harness() {
    fs::remove_all(storage);
    auto c = kafka::EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
    config.kafka.instance_id = "status-test";
    config.storage = storage;
    topics = kafka::Topics::from(config);
    // Two partitions each, so positions are kept per partition.
    REQUIRE(cluster->create_topic(topics.status, 2));
    REQUIRE(cluster->create_topic(topics.dlq, 2));
    auto p = kafka::Producer::create(settings, "status-test", kafka::Producer::Mode::idempotent);
    REQUIRE(p);
    producer = std::move(*p);
  }
  ~Harness() {
    producer.reset();
    fs::remove_all(storage);
  }

  void produce(const std::string& topic, const std::string& key, const std::string& value) {
    REQUIRE(producer->produce(topic, key, value));
  }
  void flush() { REQUIRE(producer->flush(10s)); }

  void delivery_record(const std::string& event, const std::string& id, DeliveryState state, int attempt = 1) {
    StatusRecord r;
    r.delivery_id = id;
    r.event_id = event;
    r.event_type = "notice";
    r.account = "A-" + id;
    r.tier = "basic";
    r.channel = "sms";
    r.connector = "gateway";
    r.attempt = attempt;
    r.state = state;
    r.reason = state == DeliveryState::failed ? "http 503" : "";
    r.time_ms = 1000;
    produce(topics.status, event, serialize(r));
  }
  void summary(const std::string& event, std::int64_t planned) {
    produce(topics.status, event, serialize(FanoutSummary{event, "notice", {{"basic", "sms", planned, 0, 0}}, 1000}));
  }
  void dead_letter(const std::string& event, const std::string& id, int attempt) {
    Delivery d;
    d.delivery_id = id;
    d.event_id = event;
    d.event_type = "notice";
    d.account = "A-" + id;
    d.tier = "basic";
    d.attempt = attempt;
    boost::json::object letter{{"delivery", to_json(d)},      {"connector", "gateway"},
                               {"attempts", attempt},         {"last_error", "http 503"},
                               {"first_attempt_at", format_rfc3339_utc(900)},
                               {"failed_at", format_rfc3339_utc(1000)}};
    produce(topics.dlq, event, boost::json::serialize(letter));
  }

  std::unique_ptr<StatusView> start_view() {
    auto view = std::make_unique<StatusView>(config, settings, topics);
    REQUIRE(view->start());
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!view->caught_up() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(view->caught_up());
    return view;
  }
};

// Two events on (likely) both partitions: e1 with 3 deliveries, one failed
// with its dead letter; e2 with 2 sent.
void first_records(Harness& h) {
  h.summary("e1", 3);
  h.delivery_record("e1", "d1", DeliveryState::sent);
  h.delivery_record("e1", "d2", DeliveryState::sent);
  h.delivery_record("e1", "d3", DeliveryState::failed, 5);
  h.dead_letter("e1", "d3", 5);
  h.summary("e2", 2);
  h.delivery_record("e2", "x1", DeliveryState::sent);
  h.delivery_record("e2", "x2", DeliveryState::sent);
  h.flush();
}

}  // namespace

TEST_CASE("a missing index file is built from the beginning of the topics, the same every time") {
  Harness h;
  first_records(h);
  std::string first_json;
  {
    auto view = h.start_view();
    REQUIRE(view->index());
    CHECK(view->index()->rebuilt());
    const auto e1 = view->event("e1");
    REQUIRE(e1);
    CHECK(e1->totals().count(DeliveryState::sent) == 2);
    CHECK(e1->totals().count(DeliveryState::failed) == 1);
    CHECK(view->event("e2")->totals().count(DeliveryState::sent) == 2);
    CHECK(view->failures({}, 10).total == 1);
    CHECK(view->recent_events(10).size() == 2);
    first_json = boost::json::serialize(e1->to_json());
    view->stop();
  }
  REQUIRE(fs::exists(StatusView::index_file(h.config)));
  fs::remove(StatusView::index_file(h.config));
  auto view = h.start_view();
  CHECK(view->index()->rebuilt());
  const auto e1 = view->event("e1");
  REQUIRE(e1);
  CHECK(boost::json::serialize(e1->to_json()) == first_json);
  CHECK(view->failures({}, 10).total == 1);
}

TEST_CASE("a restart resumes at the stored offsets: nothing is counted twice, what came meanwhile is added") {
  Harness h;
  first_records(h);
  {
    auto view = h.start_view();
    CHECK(view->event("e1")->totals().count(DeliveryState::sent) == 2);
    view->stop();
  }
  // While it was down: d3 sent after all, a third event.
  h.delivery_record("e1", "d3", DeliveryState::sent, 6);
  h.summary("e3", 1);
  h.delivery_record("e3", "y1", DeliveryState::delivered);
  h.flush();

  auto view = h.start_view();
  CHECK_FALSE(view->index()->rebuilt());
  const auto e1 = view->event("e1")->totals();
  CHECK(e1.count(DeliveryState::sent) == 3);
  CHECK(e1.count(DeliveryState::failed) == 0);
  CHECK(e1.waiting() == 0);
  CHECK(view->event("e2")->totals().count(DeliveryState::sent) == 2);
  CHECK(view->event("e3")->totals().count(DeliveryState::delivered) == 1);
  CHECK(view->failures({}, 10).total == 0);

  // And records that arrive while it runs are read too (bounded wait).
  h.delivery_record("e2", "x3", DeliveryState::failed, 5);
  h.flush();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (view->failures({}, 10).total == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CHECK(view->failures({}, 10).total == 1);
  CHECK(view->event("e2")->totals().count(DeliveryState::sent) == 2);
}
