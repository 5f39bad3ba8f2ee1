// The dispatch role end to end on librdkafka's mock cluster (real clients)
// with an injected clock: quiet hours and a restart, retries and dead letters,
// the breaker and the fallback, daily caps, the order of a saturated
// connector. The connector here is a scripted one (the real kinds are tested
// against real gateways in tests/integration): it answers what each test
// says, so every outcome class can be produced on demand.
#include "engine/dispatch/dispatch_role.h"
#include "engine/core/time_format.h"
#include "engine/kafka/embedded_cluster.h"
#include "tests/support/source_dir.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"
#include "tests/support/test_time.h"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <unistd.h>

using namespace sunbeam;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::at;

// What the scripted gateway saw and how it answers.
struct Script {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> sent;  // (connector, delivery id), in order
  std::function<SendOutcome(const std::string& connector, const OutboundMessage&)> answer =
      [](const std::string&, const OutboundMessage& m) { return SendOutcome::ok("gw-" + m.delivery_id.substr(0, 6)); };
  std::vector<std::string> sent_by(const std::string& connector) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& [c, id] : sent)
      if (c == connector) out.push_back(id);
    return out;
  }
};

class ScriptedConnector final : public Connector {
 public:
  ScriptedConnector(std::string name, Script& script) : name_(std::move(name)), script_(script) {}
  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "scripted"; }
  void send(OutboundMessage msg, SendCompletion done) override {
    SendOutcome outcome;
    {
      std::lock_guard lock(script_.mutex);
      outcome = script_.answer(name_, msg);
      if (outcome.accepted()) script_.sent.emplace_back(name_, msg.delivery_id);
    }
    done(std::move(outcome));
  }

 private:
  std::string name_;
  Script& script_;
};

struct Harness {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientSettings settings;
  Config config = test::small_config();
  kafka::Topics topics;
  TemplateLoad templates;
  ManualClock clock{at("2026-11-25T10:00:00+08:00")};
  Script script;
  std::optional<Connectors> connectors;
  std::unique_ptr<DispatchRole> role;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::Consumer> status_reader;
  std::map<std::string, std::vector<StatusRecord>> records;  // by delivery id
  fs::path storage = fs::temp_directory_path() / ("sunbeam-dispatch-" + std::to_string(::getpid()));

  explicit Harness(const std::function<void(Config&)>& adjust = {}) {
    fs::remove_all(storage);
    auto c = kafka::EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
    config.kafka.instance_id = "dispatch-test";
    config.storage = storage;
    config.defaults.timezone = "Asia/Shanghai";
    config.sms.max_parts = 5;
    for (const char* name : {"primary", "backup"}) {
      ConnectorConfig cc;
      cc.name = name;
      cc.kind = "scripted";
      cc.concurrency = 4;
      cc.retry.max_attempts = 3;
      cc.retry.initial_backoff = 10s;
      cc.retry.max_backoff = 60s;
      cc.retry.max_age = 1h;
      cc.cost_per_part = 0.05;
      config.connectors.push_back(cc);
    }
    config.routing[Channel::sms] = Route{"primary", std::nullopt};
    config.routing[Channel::email] = Route{"primary", std::nullopt};
    if (adjust) adjust(config);
    topics = kafka::Topics::from(config);
    for (const auto& t : topics.all()) REQUIRE(cluster->create_topic(t, 1));
    templates = TemplateSet::load(test::source_dir() / "templates" / "messages", config);
    REQUIRE(templates.set);
    ConnectorRegistry registry;
    registry.add("scripted", [this](const ConnectorConfig& cc) -> Result<std::unique_ptr<Connector>> {
      return std::unique_ptr<Connector>(new ScriptedConnector(cc.name, script));
    });
    auto built = Connectors::build(config, registry, clock);
    REQUIRE(built);
    connectors.emplace(std::move(*built));
    auto p = kafka::Producer::create(settings, "test-deliveries", kafka::Producer::Mode::idempotent);
    REQUIRE(p);
    producer = std::move(*p);
    auto r = kafka::Consumer::create(settings, {"status-reader", "status-reader", true});
    REQUIRE(r);
    status_reader = std::move(*r);
    REQUIRE(status_reader->assign_from_beginning(topics.status));
    start();
  }
  ~Harness() {
    stop();
    connectors.reset();
    status_reader.reset();
    producer.reset();
    fs::remove_all(storage);
  }

  void start() {
    role = std::make_unique<DispatchRole>(config, *templates.set, *connectors, settings, topics, clock);
    REQUIRE(role->start());
  }
  void stop() {
    if (role) role->stop();
    role.reset();
  }

  Delivery delivery(const std::string& account, const std::string& tier, Priority priority = Priority::normal,
                    Channel channel = Channel::sms) {
    Delivery d;
    d.event_id = "e-" + account;
    d.event_type = priority == Priority::urgent ? "risk_alert" : "notice";
    d.delivery_id = make_delivery_id(d.event_id, account, channel);
    d.account = account;
    d.tier = tier;
    d.channel = channel;
    d.priority = priority;
    d.symbol = "601318.SH";
    d.occurred_at = "2026-11-25T10:00:00+08:00";
    d.recipient = {"张伟", channel == Channel::sms ? "+8613800000001" : "a@example.com", "zh-CN", "", {}};
    d.data = {{"title", "休市安排"}, {"body", "明日休市"}, {"name", "中国平安"}, {"level", "高"}, {"message", "跌幅超过7%"}};
    return d;
  }
  void publish(const Delivery& d) {
    const auto tier = config.tier_index(d.tier);
    REQUIRE(tier);
    REQUIRE(producer->produce(topics.deliveries_for(*tier), d.event_id, serialize(d)));
    REQUIRE(producer->flush(10s));
  }

  // Reads the status topic until `done` holds (bounded).
  bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& m : status_reader->poll_batch(500, 50ms)) {
        auto r = parse_status_record(m.value);
        if (r && r->delivery) records[r->delivery->delivery_id].push_back(*r->delivery);
      }
      if (done()) return true;
    }
    return done();
  }
  std::optional<StatusRecord> last(const Delivery& d) {
    auto it = records.find(d.delivery_id);
    if (it == records.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  bool in_state(const Delivery& d, DeliveryState s) {
    auto r = last(d);
    return r && r->state == s;
  }
  ConnectorState state_of(const std::string& name) {
    for (auto& s : role->connector_states())
      if (s.name == name) return s;
    FAIL("no connector " << name);
    return {};
  }
  std::vector<std::string> dlq() {
    auto c = kafka::Consumer::create(settings, {"dlq-reader", "dlq-reader", true});
    REQUIRE(c);
    REQUIRE((*c)->assign_from_beginning(topics.dlq));
    std::vector<std::string> out;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline && !(*c)->caught_up())
      for (auto& m : (*c)->poll_batch(100, 50ms)) out.push_back(m.value);
    return out;
  }
};

}  // namespace

TEST_CASE("quiet hours defer a normal delivery past a restart; an urgent one goes at once; expiry wins") {
  Harness h([](Config& c) { c.defaults.quiet_hours = parse_quiet_hours("21:30-08:00"); });
  h.clock.set(at("2026-11-25T22:00:00+08:00"));
  const auto normal = h.delivery("A1", "basic");
  const auto urgent = h.delivery("A2", "advisor", Priority::urgent);
  auto short_lived = h.delivery("A3", "basic");
  short_lived.expires_at = "2026-11-26T07:00:00+08:00";
  short_lived.expires_at_ms = unix_ms(at("2026-11-26T07:00:00+08:00"));
  for (const auto& d : {normal, urgent, short_lived}) h.publish(d);

  REQUIRE(h.wait_for([&] {
    return h.in_state(normal, DeliveryState::deferred) && h.in_state(urgent, DeliveryState::sent) &&
           h.in_state(short_lived, DeliveryState::expired);
  }));
  CHECK(h.last(normal)->reason == "quiet_hours until 2026-11-26T00:00:00.000Z");
  CHECK(h.last(short_lived)->reason == "expires_at falls in quiet hours");
  CHECK(h.script.sent_by("primary") == std::vector<std::string>{urgent.delivery_id});

  // A restart while deferred: the deferral is in the store, not in memory.
  h.stop();
  h.clock.set(at("2026-11-26T07:59:00+08:00"));
  h.start();
  CHECK_FALSE(h.wait_for([&] { return h.in_state(normal, DeliveryState::sent); }, 2s));
  h.clock.set(at("2026-11-26T08:00:01+08:00"));
  REQUIRE(h.wait_for([&] { return h.in_state(normal, DeliveryState::sent); }));
  CHECK(h.script.sent_by("primary").size() == 2);
  CHECK(h.last(normal)->parts == 1);
  CHECK(h.last(normal)->cost_per_part == doctest::Approx(0.05));
  CHECK(h.role->stats().skipped_as_sent == 0);
}

TEST_CASE("a subscriber's own time zone and window decide, not the default") {
  Harness h([](Config& c) { c.defaults.quiet_hours = parse_quiet_hours("21:30-08:00"); });
  h.clock.set(at("2026-11-25T23:00:00+08:00"));  // 15:00 in London
  auto londoner = h.delivery("L1", "research");
  londoner.recipient.timezone = "Europe/London";
  auto night_owl = h.delivery("N1", "research");
  night_owl.recipient.quiet_hours = parse_quiet_hours("02:00-06:00");
  h.publish(londoner);
  h.publish(night_owl);
  REQUIRE(h.wait_for([&] { return h.in_state(londoner, DeliveryState::sent) && h.in_state(night_owl, DeliveryState::sent); }));
}

TEST_CASE("retryable failures back off and retry, then end failed with a dead letter; others fail at once") {
  Harness h;
  int attempts = 0;
  h.script.answer = [&](const std::string&, const OutboundMessage& m) {
    if (m.account == "BAD") return SendOutcome::fail(FailureClass::recipient, "gateway: invalid number");
    ++attempts;
    return SendOutcome::fail(FailureClass::connector, "gateway answered HTTP 503");
  };
  const auto flaky = h.delivery("A1", "advisor");
  const auto bad = h.delivery("BAD", "advisor");
  h.publish(flaky);
  h.publish(bad);
  REQUIRE(h.wait_for([&] { return h.in_state(flaky, DeliveryState::deferred) && h.in_state(bad, DeliveryState::failed); }));
  CHECK(h.last(bad)->reason == "recipient: gateway: invalid number");
  CHECK(h.last(flaky)->reason.starts_with("retry 2 of 3 after connector: gateway answered HTTP 503"));
  CHECK(attempts == 1);

  // Not before its back-off (10 s step, jitter in its second half: 5 to 10 s).
  h.clock.advance(4s);
  CHECK_FALSE(h.wait_for([&] { return attempts >= 2; }, 1s));
  h.clock.advance(6s);
  REQUIRE(h.wait_for([&] { return attempts == 2 && h.records[flaky.delivery_id].size() == 2; }));
  CHECK(h.last(flaky)->attempt == 2);
  h.clock.advance(20s);
  REQUIRE(h.wait_for([&] { return h.in_state(flaky, DeliveryState::failed); }));
  CHECK(attempts == 3);
  CHECK(h.last(flaky)->attempt == 3);

  const auto letters = h.dlq();
  REQUIRE(letters.size() == 2);
  bool found = false;
  for (const auto& l : letters) {
    const auto o = boost::json::parse(l).as_object();
    if (o.at("delivery").as_object().at("delivery_id").as_string() != flaky.delivery_id) continue;
    found = true;
    CHECK(o.at("attempts").as_int64() == 3);
    CHECK(o.at("last_error").as_string() == "connector: gateway answered HTTP 503");
    CHECK(o.at("connector").as_string() == "primary");
    CHECK(o.at("delivery").as_object().at("recipient").as_object().at("address").as_string() == "+8613800000001");
  }
  CHECK(found);
}

TEST_CASE("a failing connector trips its breaker and routing falls back") {
  Harness h([](Config& c) {
    c.routing[Channel::sms].fallback = "backup";
    c.connectors[0].breaker = {3, 60s};
    c.connectors[0].concurrency = 1;
  });
  h.script.answer = [](const std::string& connector, const OutboundMessage&) {
    return connector == "primary" ? SendOutcome::fail(FailureClass::session, "connection reset")
                                  : SendOutcome::ok("backup-id");
  };
  std::vector<Delivery> ds;
  for (int i = 0; i < 10; ++i) ds.push_back(h.delivery("F" + std::to_string(i), "research"));
  for (const auto& d : ds) h.publish(d);
  REQUIRE(h.wait_for([&] {
    int settled = 0;
    for (const auto& d : ds) settled += h.in_state(d, DeliveryState::sent) || h.in_state(d, DeliveryState::deferred);
    return settled == 10;
  }));
  int to_backup = 0, retrying = 0;
  for (const auto& d : ds) {
    if (h.in_state(d, DeliveryState::sent)) {
      CHECK(h.last(d)->connector == "backup");
      ++to_backup;
    } else {
      ++retrying;
    }
  }
  CHECK(retrying == 3);  // the three failures that opened the breaker wait for their retry
  CHECK(to_backup == 7);
  CHECK(h.state_of("primary").breaker == "open");
  CHECK(h.state_of("backup").breaker == "closed");
  // Their retries, due while the breaker is still open, go to the backup too.
  h.clock.advance(30s);
  REQUIRE(h.wait_for([&] {
    for (const auto& d : ds)
      if (!h.in_state(d, DeliveryState::sent)) return false;
    return true;
  }));
  CHECK(h.script.sent_by("backup").size() == 10);
}

TEST_CASE("daily caps suppress the extra normal messages of the day, never urgent ones") {
  Harness h([](Config& c) { c.caps[Channel::sms] = 2; });
  std::vector<Delivery> ds;
  for (int i = 0; i < 3; ++i) {
    auto d = h.delivery("C1", "basic");
    d.event_id = "e-cap-" + std::to_string(i);
    d.delivery_id = make_delivery_id(d.event_id, d.account, d.channel);
    ds.push_back(d);
  }
  auto urgent = h.delivery("C1", "basic", Priority::urgent);
  for (const auto& d : ds) h.publish(d);
  h.publish(urgent);
  REQUIRE(h.wait_for([&] {
    for (const auto& d : ds)
      if (!h.last(d)) return false;
    return h.in_state(urgent, DeliveryState::sent);
  }));
  int sent = 0, capped = 0;
  for (const auto& d : ds) {
    sent += h.in_state(d, DeliveryState::sent);
    if (h.in_state(d, DeliveryState::suppressed)) {
      ++capped;
      CHECK(h.last(d)->reason == "cap");
    }
  }
  CHECK(sent == 2);
  CHECK(capped == 1);
  // The next local day the count starts again.
  h.clock.advance(24h);
  auto tomorrow = h.delivery("C1", "basic");
  tomorrow.event_id = "e-cap-tomorrow";
  tomorrow.delivery_id = make_delivery_id(tomorrow.event_id, tomorrow.account, tomorrow.channel);
  h.publish(tomorrow);
  REQUIRE(h.wait_for([&] { return h.in_state(tomorrow, DeliveryState::sent); }));

  // The store keeps the days some time zone may still be in, and forgets the
  // rest (at start, then hourly): after three days only tomorrow's place is left.
  const auto cap_rows = [&] {
    auto db = SqliteDb::open(dispatch_store_path(h.config));
    REQUIRE(db);
    auto count = (*db)->prepare("SELECT count(*) FROM cap_uses");
    REQUIRE(count);
    return count->next_row() ? count->int64_at(0) : -1;
  };
  h.stop();
  CHECK(cap_rows() == 3);  // today's two, tomorrow's one
  h.clock.advance(48h);
  h.start();
  h.stop();
  CHECK(cap_rows() == 1);
}

TEST_CASE("a saturated connector sends urgent and higher tiers first") {
  Harness h([](Config& c) {
    c.connectors[0].rate = *parse_rate("1/s");
    c.connectors[0].burst = 1;
  });
  // The first delivery takes the bucket's only token; the rest queue up.
  const auto opener = h.delivery("O1", "basic");
  h.publish(opener);
  REQUIRE(h.wait_for([&] { return h.in_state(opener, DeliveryState::sent); }));
  std::vector<Delivery> basic, advisor;
  for (int i = 0; i < 3; ++i) basic.push_back(h.delivery("B" + std::to_string(i), "basic"));
  for (int i = 0; i < 3; ++i) advisor.push_back(h.delivery("V" + std::to_string(i), "advisor"));
  const auto urgent = h.delivery("U1", "basic", Priority::urgent);
  for (const auto& d : basic) h.publish(d);
  for (const auto& d : advisor) h.publish(d);
  h.publish(urgent);
  REQUIRE(h.wait_for([&] { return h.state_of("primary").queued == 7; }));
  for (int i = 0; i < 7; ++i) {
    h.clock.advance(1s);
    const std::size_t want = std::size_t(i) + 2;
    REQUIRE(h.wait_for([&] { return h.script.sent_by("primary").size() == want; }));
  }
  std::vector<std::string> expected{opener.delivery_id, urgent.delivery_id};
  for (const auto& d : advisor) expected.push_back(d.delivery_id);
  for (const auto& d : basic) expected.push_back(d.delivery_id);
  CHECK(h.script.sent_by("primary") == expected);
}

TEST_CASE("backpressure `pause`: a tier stops being read at max_pending and resumes as it drains") {
  Harness h([](Config& c) {
    c.dispatch.max_pending = 10;
    c.connectors[0].rate = *parse_rate("1/s");
    c.connectors[0].burst = 1;
  });
  std::vector<Delivery> ds;
  for (int i = 0; i < 40; ++i) ds.push_back(h.delivery("P" + std::to_string(i), "basic"));
  for (const auto& d : ds) h.publish(d);
  const std::string topic = h.topics.deliveries_for(2);
  REQUIRE(h.wait_for([&] { return h.role->stats().pauses >= 1; }));
  // Held at the bound (one batch of max_pending at most over it), the rest left in Kafka.
  h.wait_for([] { return false; }, 1s);
  CHECK(h.role->unfinished(topic) <= 20);
  CHECK(h.role->unfinished(topic) >= 9);  // the bucket's first token sent one at once
  // Drain: one token a second on the injected clock; every delivery is sent in the end.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (h.script.sent_by("primary").size() < ds.size() && std::chrono::steady_clock::now() < deadline) {
    h.clock.advance(1s);
    h.wait_for([] { return false; }, std::chrono::seconds(0));
    std::this_thread::sleep_for(20ms);
  }
  CHECK(h.script.sent_by("primary").size() == ds.size());
  CHECK(h.role->stats().pauses >= 2);  // paused again after resuming
  REQUIRE(h.wait_for([&] {
    for (const auto& d : ds)
      if (!h.in_state(d, DeliveryState::sent)) return false;
    return true;
  }));
}

TEST_CASE("a suspended connector sends nothing and loses nothing; resumed, it sends everything once") {
  Harness h;
  REQUIRE(h.role->suspend("primary", true));
  CHECK_FALSE(h.role->suspend("no-such-connector", true));
  std::vector<Delivery> all;
  for (int i = 0; i < 20; ++i) all.push_back(h.delivery("S" + std::to_string(i), "basic"));
  for (const auto& d : all) h.publish(d);
  // Bounded look: everything is read and queued, nothing is sent.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (h.state_of("primary").queued < all.size() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CHECK(h.state_of("primary").queued == all.size());
  CHECK(h.state_of("primary").suspended);
  CHECK(h.script.sent_by("primary").empty());

  REQUIRE(h.role->suspend("primary", false));
  REQUIRE(h.wait_for([&] {
    return std::all_of(all.begin(), all.end(), [&](const Delivery& d) { return h.in_state(d, DeliveryState::sent); });
  }));
  CHECK(h.script.sent_by("primary").size() == all.size());
  CHECK_FALSE(h.state_of("primary").suspended);
  CHECK(h.state_of("primary").sent == all.size());
}

TEST_CASE("cancelling an event ends its queued, deferred and later-read deliveries `cancelled`, and only its own") {
  Harness h([](Config& c) { c.defaults.quiet_hours = parse_quiet_hours("21:30-08:00"); });
  auto of_event = [&](const std::string& event, const std::string& account, Priority p = Priority::normal) {
    auto d = h.delivery(account, "research", p);
    d.event_id = event;
    d.delivery_id = make_delivery_id(event, account, Channel::sms);
    return d;
  };
  // Deferred by quiet hours at 22:00: two of the mistaken event, one of another.
  h.clock.set(at("2026-11-25T22:00:00+08:00"));
  const auto deferred = of_event("mistake", "D1"), deferred2 = of_event("mistake", "D2"), other = of_event("fine", "F1");
  for (const auto& d : {deferred, deferred2, other}) h.publish(d);
  REQUIRE(h.wait_for([&] {
    return h.in_state(deferred, DeliveryState::deferred) && h.in_state(deferred2, DeliveryState::deferred) &&
           h.in_state(other, DeliveryState::deferred);
  }));
  // Queued behind a suspended connector: urgent, so past quiet hours.
  REQUIRE(h.role->suspend("primary", true));
  const auto queued = of_event("mistake", "Q1", Priority::urgent);
  h.publish(queued);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (h.state_of("primary").queued < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  REQUIRE(h.state_of("primary").queued == 1);

  h.role->cancel_event("mistake");
  h.role->cancel_event("mistake");  // twice: harmless
  REQUIRE(h.wait_for([&] {
    return h.in_state(deferred, DeliveryState::cancelled) && h.in_state(deferred2, DeliveryState::cancelled) &&
           h.in_state(queued, DeliveryState::cancelled);
  }));
  CHECK(h.last(queued)->reason == "cancelled by an operator");
  CHECK(h.state_of("primary").queued == 0);

  // Read after the order: cancelled at once. The other event is untouched.
  const auto late = of_event("mistake", "L1", Priority::urgent);
  h.publish(late);
  REQUIRE(h.wait_for([&] { return h.in_state(late, DeliveryState::cancelled); }));
  REQUIRE(h.role->suspend("primary", false));
  h.clock.set(at("2026-11-26T08:00:01+08:00"));
  REQUIRE(h.wait_for([&] { return h.in_state(other, DeliveryState::sent); }));
  CHECK(h.script.sent_by("primary") == std::vector<std::string>{other.delivery_id});
  CHECK(h.role->stats().cancelled == 4);
}

TEST_CASE("a digest delivery's outcome is recorded for each item it carried") {
  Harness h;
  auto digest = h.delivery("G1", "research");
  digest.event_id = "digest:2026-11-25";
  digest.event_type = "notice";  // rendered with an existing template; the items are what matter here
  digest.delivery_id = make_delivery_id(digest.event_id, "G1", Channel::sms);
  const std::string item1 = make_delivery_id("pick-1", "G1", Channel::sms), item2 = make_delivery_id("pick-2", "G1", Channel::sms);
  digest.data["items"] = boost::json::array{
      boost::json::object{{"event_id", "pick-1"}, {"delivery_id", item1}, {"event_type", "stock_pick_followup"}},
      boost::json::object{{"event_id", "pick-2"}, {"delivery_id", item2}, {"event_type", "stock_pick_followup"}}};
  digest.event_type = "digest";
  // Whatever the digest's outcome, each item ends the same, with the digest named in the reason.
  h.publish(digest);
  REQUIRE(h.wait_for([&] { return h.records.contains(item1) && h.records.contains(item2); }));
  for (const auto& id : {item1, item2}) {
    const auto& r = h.records[id].back();
    CHECK(r.state == h.records[digest.delivery_id].back().state);
    CHECK(r.reason.starts_with("digest " + digest.delivery_id));
    CHECK(r.event_type == "stock_pick_followup");
    CHECK(r.account == "G1");
  }
}

TEST_CASE("a gateway error quoting the number is masked in the status record and the dead letter, unless configured") {
  for (bool mask : {true, false}) {
    CAPTURE(mask);
    Harness h([mask](Config& c) { c.privacy.mask_personal_data = mask; });
    h.script.answer = [](const std::string&, const OutboundMessage& m) {
      return SendOutcome::fail(FailureClass::recipient, "gateway: " + m.to + " is not a valid number; cc zhang.wei@example.com");
    };
    const auto d = h.delivery("M1", "basic");
    h.publish(d);
    REQUIRE(h.wait_for([&] { return h.in_state(d, DeliveryState::failed); }));
    const std::string reason = h.last(d)->reason;
    auto letters = h.dlq();
    for (int i = 0; i < 50 && letters.empty(); ++i) letters = h.dlq();  // the letter may trail the record
    REQUIRE(letters.size() == 1);
    if (mask) {
      CHECK(reason.find("+8613800000001") == std::string::npos);
      CHECK(reason.find("zhang.wei@") == std::string::npos);
      CHECK(reason.find("****") != std::string::npos);
      CHECK(letters[0].find("zhang.wei@example.com") == std::string::npos);
    } else {
      CHECK(reason.find("+8613800000001") != std::string::npos);
      CHECK(reason.find("zhang.wei@example.com") != std::string::npos);
    }
  }
}

TEST_CASE("a replayed delivery gets its own retries, counted from the replay") {
  Harness h;  // max_attempts 3
  int calls = 0;
  h.script.answer = [&](const std::string&, const OutboundMessage& m) {
    if (++calls == 1) return SendOutcome::fail(FailureClass::connector, "gateway answered HTTP 503");
    return SendOutcome::ok("gw-" + m.delivery_id.substr(0, 6));
  };
  auto d = h.delivery("R1", "basic");
  d.attempt = 6;           // five attempts failed before the replay
  d.attempts_before = 5;
  h.publish(d);
  REQUIRE(h.wait_for([&] { return h.in_state(d, DeliveryState::deferred); }));
  CHECK(h.last(d)->reason.starts_with("retry 2 of 3"));
  h.clock.set(h.clock.now() + 2min);
  REQUIRE(h.wait_for([&] { return h.in_state(d, DeliveryState::sent); }));
  CHECK(h.last(d)->attempt == 7);
}

// A replay item or a digest produced but not yet marked when its role stopped
// is produced again, at a later offset than the first copy: past the read
// marks, so only the ledger can tell (a fan-out's deliveries are written once).
TEST_CASE("a replay or a digest produced twice is sent once: the second copy finds the ledger") {
  Harness h;
  auto replayed = h.delivery("R2", "basic");
  replayed.attempt = 2;
  replayed.attempts_before = 1;
  auto digest = h.delivery("G2", "research");
  digest.event_id = "digest:2026-11-25";
  digest.delivery_id = make_delivery_id(digest.event_id, "G2", Channel::sms);
  digest.event_type = "digest";
  digest.data["items"] = boost::json::array{};
  auto fanned_out = h.delivery("F2", "basic");
  for (const auto* d : {&replayed, &digest}) {
    h.publish(*d);
    REQUIRE(h.wait_for([&] { return h.in_state(*d, DeliveryState::sent); }));
    h.publish(*d);
    REQUIRE(h.wait_for([&] { return h.records[d->delivery_id].size() == 2; }));
    CHECK(h.last(*d)->state == DeliveryState::sent);
    CHECK(h.last(*d)->reason == "already sent (ledger)");
    CHECK(h.last(*d)->connector == "primary");
  }
  h.publish(fanned_out);
  REQUIRE(h.wait_for([&] { return h.in_state(fanned_out, DeliveryState::sent); }));
  CHECK(h.script.sent_by("primary") ==
        std::vector<std::string>{replayed.delivery_id, digest.delivery_id, fanned_out.delivery_id});
  CHECK(h.role->stats().skipped_as_sent == 2);
}

TEST_CASE("the ledger keeps an event's sends for dispatch.ledger_retention, then forgets them") {
  Harness h;  // ledger_retention: 7 days
  auto replayed = h.delivery("R3", "basic");
  replayed.attempt = 2;
  replayed.attempts_before = 1;
  h.publish(replayed);
  REQUIRE(h.wait_for([&] { return h.in_state(replayed, DeliveryState::sent); }));
  h.stop();
  h.clock.set(h.clock.now() + std::chrono::hours(24 * 6));  // within: the copy is not sent
  h.start();
  h.publish(replayed);
  REQUIRE(h.wait_for([&] { return h.records[replayed.delivery_id].size() == 2; }));
  CHECK(h.last(replayed)->reason == "already sent (ledger)");
  h.stop();
  h.clock.set(h.clock.now() + std::chrono::hours(24 * 2));  // 8 days after the send: forgotten at start
  h.start();
  h.publish(replayed);
  REQUIRE(h.wait_for([&] { return h.records[replayed.delivery_id].size() == 3; }));
  CHECK(h.last(replayed)->reason.empty());
  CHECK(h.script.sent_by("primary").size() == 2);
}
