// The Kafka plumbing against librdkafka's in-process mock cluster: real
// clients, real protocol, no broker to start.
#include "engine/kafka/admin.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/doorbell.h"
#include "engine/kafka/embedded_cluster.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

using namespace sunbeam;
using namespace sunbeam::kafka;
using namespace std::chrono_literals;

namespace {

struct Cluster {
  std::unique_ptr<EmbeddedCluster> cluster;
  ClientSettings settings;
  Cluster() {
    auto c = EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
  }
};

std::vector<Message> read_all(Consumer& c, std::size_t want, std::chrono::seconds limit = 20s) {
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto batch = c.poll_batch(100, 100ms);
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

}  // namespace

TEST_CASE("an idempotent producer's records are read back in order, with delivery reports") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.plain", 1));
  auto producer = Producer::create(k.settings, "test-producer", Producer::Mode::idempotent);
  REQUIRE(producer);
  std::atomic<int> acked{0};
  for (int i = 0; i < 10; ++i)
    REQUIRE((*producer)->produce("t.plain", "k", "v" + std::to_string(i), [&](Result<void> r) {
      CHECK(r);
      ++acked;
    }));
  REQUIRE((*producer)->flush(10s));
  CHECK(acked == 10);

  auto consumer = Consumer::create(k.settings, {"g-plain", "test-consumer", true});
  REQUIRE(consumer);
  REQUIRE((*consumer)->assign_from_beginning("t.plain"));
  auto got = read_all(**consumer, 10);
  REQUIRE(got.size() == 10);
  CHECK(got.front().value == "v0");
  CHECK(got.back().value == "v9");
  CHECK(got.front().key == "k");
}

TEST_CASE("assign mode knows when it has read everything") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.eof", 2));
  auto consumer = Consumer::create(k.settings, {"g-eof", "test-consumer", true});
  REQUIRE(consumer);
  REQUIRE((*consumer)->assign_from_beginning("t.eof"));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!(*consumer)->caught_up() && std::chrono::steady_clock::now() < deadline) (*consumer)->poll_batch(10, 100ms);
  CHECK((*consumer)->caught_up());
}

TEST_CASE("a committed transaction is visible with its offsets; an aborted one is not") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.in", 1));
  REQUIRE(k.cluster->create_topic("t.out", 1));
  auto plain = Producer::create(k.settings, "feeder", Producer::Mode::idempotent);
  REQUIRE(plain);
  for (int i = 0; i < 4; ++i) REQUIRE((*plain)->produce("t.in", "", "in" + std::to_string(i)));
  REQUIRE((*plain)->flush(10s));

  auto txn = Producer::create(k.settings, "txn", Producer::Mode::transactional, "test-txn");
  REQUIRE(txn);
  REQUIRE((*txn)->init_transactions(30s));
  auto in = Consumer::create(k.settings, {"g-txn", "txn-in", true});
  REQUIRE(in);
  REQUIRE((*in)->subscribe({"t.in"}));
  auto batch = read_all(**in, 4, 30s);
  REQUIRE(batch.size() == 4);

  // First attempt aborted: nothing of it may be seen downstream.
  REQUIRE((*txn)->begin_transaction());
  REQUIRE((*txn)->produce("t.out", "", "aborted"));
  REQUIRE((*txn)->abort_transaction(30s));
  REQUIRE((*in)->rewind(batch));
  auto again = read_all(**in, 4, 30s);
  REQUIRE(again.size() == 4);
  CHECK(again.front().value == "in0");

  // Second attempt committed, with the consumed offsets.
  REQUIRE((*txn)->begin_transaction());
  for (const auto& m : again) REQUIRE((*txn)->produce("t.out", "", "out-" + m.value));
  REQUIRE((*txn)->send_offsets_to_transaction(again, **in, 30s));
  REQUIRE((*txn)->commit_transaction(30s));

  auto out = Consumer::create(k.settings, {"g-out", "out", true});
  REQUIRE(out);
  REQUIRE((*out)->assign_from_beginning("t.out"));
  auto seen = read_all(**out, 4, 20s);
  // Read a little longer: an aborted record would arrive by now.
  auto more = (*out)->poll_batch(10, 500ms);
  seen.insert(seen.end(), more.begin(), more.end());
  REQUIRE(seen.size() == 4);
  for (const auto& m : seen) CHECK(m.value.rfind("out-", 0) == 0);
}

// A real broker fences a member replaced by another process with the same
// group.instance.id (tests/integration/test_static_member.py); here, that the
// property is given only where the settings allow it (not to the embedded
// mock, which does not implement static members).
TEST_CASE("a group consumer joins as a static member only where the settings allow it") {
  Cluster k;
  auto instance_id_of = [](Consumer& consumer) {
    char value[256];
    std::size_t size = sizeof value;
    const auto found = rd_kafka_conf_get(rd_kafka_conf(consumer.handle()), "group.instance.id", value, &size);
    return found == RD_KAFKA_CONF_OK ? std::string(value) : std::string();
  };
  auto ordinary = Consumer::create(k.settings, {"g-static", "test-consumer", true}, "instance-7");
  REQUIRE(ordinary);
  CHECK(instance_id_of(**ordinary).empty());

  auto settings = k.settings;
  settings.static_membership = true;
  auto member = Consumer::create(settings, {"g-static", "test-consumer", true}, "instance-7");
  REQUIRE(member);
  CHECK(instance_id_of(**member) == "instance-7");
  CHECK_FALSE((*member)->fenced());
  auto unnamed = Consumer::create(settings, {"g-static-2", "test-consumer", true});
  REQUIRE(unnamed);
  CHECK(instance_id_of(**unnamed).empty());
}

TEST_CASE("a bad client property is an error that names it") {
  ClientSettings s;
  s.bootstrap = "127.0.0.1:1";
  s.overrides["no.such.property"] = "1";
  auto p = Producer::create(s, "x", Producer::Mode::idempotent);
  REQUIRE_FALSE(p);
  CHECK(p.error().field == "kafka.client.no.such.property");
}

namespace {

// Reads exactly `count` records (never more), within a bounded time.
std::vector<Message> read_exactly(Consumer& c, std::size_t count) {
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = c.poll_batch(count - out.size(), 100ms);
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

std::int64_t total(const std::vector<PartitionLag>& lag) {
  std::int64_t sum = 0;
  for (const auto& p : lag) sum += p.lag;
  return sum;
}

// lag() from another thread than the poller, until `done` holds or 20 s pass
// (the end is refreshed by the background fetcher, not by polling).
std::vector<PartitionLag> lag_when(const Consumer& c, const std::function<bool(const std::vector<PartitionLag>&)>& done) {
  std::vector<PartitionLag> lag;
  std::thread reader([&] {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      lag = c.lag();
      if (done(lag)) return;
      std::this_thread::sleep_for(20ms);
    }
  });
  reader.join();
  return lag;
}

void produce(const ClientSettings& settings, const std::string& topic, int count) {
  auto producer = Producer::create(settings, "lag-producer", Producer::Mode::idempotent);
  REQUIRE(producer);
  for (int i = 0; i < count; ++i) REQUIRE((*producer)->produce(topic, "k" + std::to_string(i), "v"));
  REQUIRE((*producer)->flush(10s));
}

}  // namespace

TEST_CASE("a group consumer's lag: produced N, read M, lag N - M") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.lag", 1));
  produce(k.settings, "t.lag", 10);
  auto consumer = Consumer::create(k.settings, {"g-lag", "lag-consumer", true});
  REQUIRE(consumer);
  REQUIRE((*consumer)->subscribe({"t.lag"}));
  REQUIRE(read_exactly(**consumer, 4).size() == 4);

  auto lag = lag_when(**consumer, [](const auto& l) { return l.size() == 1 && l[0].high_watermark == 10; });
  REQUIRE(lag.size() == 1);
  CHECK(lag[0].topic == "t.lag");
  CHECK(lag[0].partition == 0);
  CHECK(lag[0].position == 4);
  CHECK(lag[0].high_watermark == 10);
  CHECK(lag[0].lag == 6);

  REQUIRE(read_exactly(**consumer, 6).size() == 6);
  lag = (*consumer)->lag();
  REQUIRE(lag.size() == 1);
  CHECK(lag[0].position == 10);
  CHECK(lag[0].lag == 0);
}

TEST_CASE("lag over partitions: caught up is 0, new records count before they are read") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.lag2", 2));
  produce(k.settings, "t.lag2", 10);
  auto consumer = Consumer::create(k.settings, {"g-lag2", "lag-consumer", true});
  REQUIRE(consumer);
  REQUIRE((*consumer)->subscribe({"t.lag2"}));
  REQUIRE(read_exactly(**consumer, 10).size() == 10);
  // Both partitions known once each has reported its end.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((*consumer)->lag().size() < 2 && std::chrono::steady_clock::now() < deadline)
    CHECK((*consumer)->poll_batch(10, 100ms).empty());
  auto lag = (*consumer)->lag();
  REQUIRE(lag.size() == 2);
  CHECK(total(lag) == 0);
  CHECK(lag[0].high_watermark + lag[1].high_watermark == 10);

  // Seven more while nobody polls: the fetcher brings the new end.
  produce(k.settings, "t.lag2", 7);
  lag = lag_when(**consumer, [](const auto& l) { return total(l) == 7; });
  CHECK(total(lag) == 7);
  REQUIRE(read_exactly(**consumer, 3).size() == 3);
  lag = (*consumer)->lag();
  CHECK(total(lag) == 4);
  for (const auto& p : lag) CHECK(p.lag == p.high_watermark - p.position);
}

TEST_CASE("ping: a reachable cluster answers; an address where nothing listens does not, within the time given") {
  auto cluster = EmbeddedCluster::start();
  REQUIRE(cluster);
  ClientSettings reachable;
  reachable.bootstrap = (*cluster)->bootstrap();
  auto up = Producer::create(reachable, "ping-up", Producer::Mode::idempotent);
  REQUIRE(up);
  CHECK(ping((*up)->handle(), 5s).has_value());

  ClientSettings nowhere;
  nowhere.bootstrap = "127.0.0.1:1";
  auto down = Producer::create(nowhere, "ping-down", Producer::Mode::idempotent);
  REQUIRE(down);
  auto r = ping((*down)->handle(), 500ms);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "kafka_unreachable");
}

TEST_CASE("urgent deliveries have a topic of their own, which dispatch reads first") {
  Config config;
  config.kafka.topic_prefix = "p.";
  config.tiers = {"advisor", "basic"};
  const auto topics = Topics::from(config);
  CHECK(topics.urgent == "p.deliveries.urgent");
  CHECK(topics.deliveries_for(1, Priority::normal) == "p.deliveries.basic");
  CHECK(topics.deliveries_for(1, Priority::urgent) == "p.deliveries.urgent");
  CHECK(topics.dispatch_reads() ==
        std::vector<std::string>{"p.deliveries.urgent", "p.deliveries.advisor", "p.deliveries.basic"});
  const auto all = topics.all();
  CHECK(std::find(all.begin(), all.end(), topics.urgent) != all.end());
}

// Dispatch waits on one bell for two consumers (doorbell.h): a record on
// either must wake it, and poll_batch without waiting must then hand it out.
TEST_CASE("two consumers ring one doorbell: a record on either wakes the waiter") {
  Cluster k;
  REQUIRE(k.cluster->create_topic("t.bulk", 1));
  REQUIRE(k.cluster->create_topic("t.urgent", 1));
  Doorbell bell;
  auto bulk = Consumer::create(k.settings, {"g-bulk", "bulk", true});
  auto urgent = Consumer::create(k.settings, {"g-urgent", "urgent", true});
  REQUIRE(bulk);
  REQUIRE(urgent);
  (*bulk)->ring_on_arrival(&bell);
  (*urgent)->ring_on_arrival(&bell);
  REQUIRE((*bulk)->subscribe({"t.bulk"}));
  REQUIRE((*urgent)->subscribe({"t.urgent"}));
  auto producer = Producer::create(k.settings, "bell-producer", Producer::Mode::idempotent);
  REQUIRE(producer);
  // One record to `topic`, produced 200 ms into a wait: the waiter polls both
  // consumers without waiting, as dispatch's loop does, and otherwise waits
  // on the bell for longer than the test's deadline, so only a ring gets the
  // record out in time.
  const auto arrives = [&](const std::string& topic) {
    std::atomic<bool> produced{false};
    std::thread later([&] {
      std::this_thread::sleep_for(200ms);
      produced = (*producer)->produce(topic, "k", "v").has_value() && (*producer)->flush(10s).has_value();
    });
    bool got_it = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!got_it && std::chrono::steady_clock::now() < deadline) {
      auto got = (*urgent)->poll_batch(10, 0ms);
      auto more = (*bulk)->poll_batch(10, 0ms);
      got.insert(got.end(), more.begin(), more.end());
      for (const auto& m : got) got_it = got_it || m.topic == topic;
      if (got.empty()) bell.wait(60s);
    }
    later.join();
    CHECK(produced);
    return got_it && std::chrono::steady_clock::now() < deadline;
  };
  CHECK(arrives("t.urgent"));
  CHECK(arrives("t.bulk"));
  CHECK(arrives("t.urgent"));
  (*bulk)->close();
  (*urgent)->close();
  REQUIRE((*producer)->produce("t.urgent", "k", "v"));  // closed: the bell is off, nothing may ring it
  REQUIRE((*producer)->flush(10s));
}
