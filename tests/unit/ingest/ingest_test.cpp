// Ingest against the embedded Kafka: validation, idempotency, and the
// idempotency index surviving a restart (rebuilt from the topic).
#include "engine/ingest/ingest.h"
#include "engine/kafka/embedded_cluster.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <future>

using namespace sunbeam;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Config config = test::small_config();
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientSettings settings;
  kafka::Topics topics;
  std::unique_ptr<kafka::Producer> producer;

  Fixture() {
    auto c = kafka::EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
    topics = kafka::Topics::from(config);
    REQUIRE(cluster->create_topic(topics.events, 2));
    auto p = kafka::Producer::create(settings, "ingest-test", kafka::Producer::Mode::idempotent);
    REQUIRE(p);
    producer = std::move(*p);
  }
};

IngestReply submit(Ingest& ingest, const std::string& body) {
  std::promise<IngestReply> done;
  ingest.submit(body, [&](IngestReply r) { done.set_value(std::move(r)); });
  auto f = done.get_future();
  REQUIRE(f.wait_for(30s) == std::future_status::ready);
  return f.get();
}

const std::string notice = R"({"id":"n-1","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","data":{"title":"休市","n":1}})";

}  // namespace

TEST_CASE("accepted once durable; the same body again is a duplicate; another body a conflict") {
  Fixture f;
  Ingest ingest(f.config, *f.producer, f.topics);
  auto first = submit(ingest, notice);
  REQUIRE(first.results.size() == 1);
  CHECK(first.results[0].outcome == IngestOutcome::accepted);
  CHECK(first.http_status() == 202);

  auto reordered = submit(ingest, R"({"data":{"n":1,"title":"休市"},"occurred_at":"2026-11-25T08:00:00+08:00","type":"notice","id":"n-1"})");
  CHECK(reordered.results[0].outcome == IngestOutcome::duplicate);
  CHECK(reordered.http_status() == 202);

  auto changed = submit(ingest, R"({"id":"n-1","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","data":{"title":"开市"}})");
  CHECK(changed.results[0].outcome == IngestOutcome::conflict);
  CHECK(changed.http_status() == 409);
  CHECK(changed.body().find("\"conflict\"") != std::string::npos);
}

TEST_CASE("invalid events are rejected with the field named, and are not produced") {
  Fixture f;
  Ingest ingest(f.config, *f.producer, f.topics);
  auto r = submit(ingest, R"({"id":"x","type":"notice"})");
  CHECK(r.http_status() == 400);
  REQUIRE(r.results[0].error);
  CHECK(r.results[0].error->field == "occurred_at");
  CHECK(r.body().find("\"field\":\"occurred_at\"") != std::string::npos);
  // The id of a rejected event stays free.
  auto ok = submit(ingest, R"({"id":"x","type":"notice","occurred_at":"2026-11-25T08:00:00Z"})");
  CHECK(ok.results[0].outcome == IngestOutcome::accepted);
}

TEST_CASE("a batch answers per event; too large is 413") {
  Fixture f;
  Ingest ingest(f.config, *f.producer, f.topics);
  auto r = submit(ingest, R"([{"id":"b1","type":"notice","occurred_at":"2026-11-25T08:00:00Z"},{"id":"b2","type":"nope","occurred_at":"2026-11-25T08:00:00Z"}])");
  CHECK(r.batch);
  REQUIRE(r.results.size() == 2);
  CHECK(r.results[0].outcome == IngestOutcome::accepted);
  CHECK(r.results[1].outcome == IngestOutcome::rejected);
  CHECK(r.results[1].error->code == "unknown_type");
  CHECK(r.http_status() == 202);

  const std::string big = R"({"id":"big","type":"notice","occurred_at":"2026-11-25T08:00:00Z","data":{"t":")" +
                          std::string(70 * 1024, 'x') + "\"}}";
  CHECK(submit(ingest, big).http_status() == 413);
}

TEST_CASE("a restarted ingest rebuilds its index from the events topic") {
  Fixture f;
  {
    Ingest ingest(f.config, *f.producer, f.topics);
    CHECK(submit(ingest, notice).results[0].outcome == IngestOutcome::accepted);
  }
  Ingest restarted(f.config, *f.producer, f.topics);
  auto known = restarted.rebuild_index(f.settings);
  REQUIRE(known);
  CHECK(*known == 1);
  CHECK(submit(restarted, notice).results[0].outcome == IngestOutcome::duplicate);
}

TEST_CASE("ingest behind (Kafka not answering) says busy: 429, and the event is not remembered as published") {
  Config config = test::small_config();
  config.api.max_pending_events = 1;
  kafka::ClientSettings nowhere;
  nowhere.bootstrap = "127.0.0.1:1";  // nothing listens: Kafka never answers
  auto p = kafka::Producer::create(nowhere, "ingest-behind", kafka::Producer::Mode::idempotent);
  REQUIRE(p);
  auto producer = std::move(*p);
  auto ingest = std::make_unique<Ingest>(config, *producer, kafka::Topics::from(config));

  std::promise<IngestReply> first_reply;
  ingest->submit(notice, [&](IngestReply r) { first_reply.set_value(std::move(r)); });  // waits for Kafka
  auto second = submit(*ingest, R"({"id":"n-2","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","data":{"title":"休市"}})");
  REQUIRE(second.results.size() == 1);
  CHECK(second.results[0].outcome == IngestOutcome::unavailable);
  CHECK(second.http_status() == 429);
  CHECK(second.results[0].error->message.find("ingest is behind") != std::string::npos);
  CHECK_FALSE(ingest->published("n-2"));
  CHECK_FALSE(ingest->published("n-1"));
  producer.reset();  // its pending record is failed back to ingest, which is still alive
  ingest.reset();
}
