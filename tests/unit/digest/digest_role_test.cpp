// The digest role end to end on librdkafka's mock cluster (real clients)
// with an injected clock: items collected from the `digest` topic, the 08:45
// digest on a trading day, a holiday that carries items over, a start after
// the digest time (before and after the cut-off), an operator's request,
// restarts in the middle of a run, the SMS count and the full e-mail list,
// and cancelled events. What the role produced is read back from the tier
// topics and the status topic.
#include "engine/digest/digest_role.h"
#include "engine/core/time_format.h"
#include "engine/kafka/embedded_cluster.h"
#include "tests/support/source_dir.h"
#include "tests/support/test_config.h"
#include "tests/unit/digest/digest_items.h"

#include "tests/support/doctest_result.h"
#include "tests/support/test_time.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <unistd.h>

using namespace sunbeam;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using test::at;

struct ReadDigest {
  std::string topic;
  std::string key;
  Delivery delivery;
};

struct Harness {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientSettings settings;
  Config config = test::small_config();
  kafka::Topics topics;
  TemplateLoad templates;
  ManualClock clock{at("2026-11-11T08:00:00+08:00")};  // a Wednesday
  std::unique_ptr<DigestRole> role;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::Consumer> status_reader;
  std::vector<std::unique_ptr<kafka::Consumer>> tier_readers;
  std::vector<ReadDigest> digests;                             // as read back, in order per topic
  std::map<std::string, std::vector<StatusRecord>> records;    // item records, by delivery id
  std::map<std::string, std::vector<DigestRun>> runs;          // by date
  fs::path storage = fs::temp_directory_path() / ("sunbeam-digest-" + std::to_string(::getpid()));

  Harness() {
    fs::remove_all(storage);
    fs::create_directories(storage);
    auto c = kafka::EmbeddedCluster::start();
    REQUIRE(c);
    cluster = std::move(*c);
    settings.bootstrap = cluster->bootstrap();
    config.kafka.instance_id = "digest-test";
    config.storage = storage;
    config.sms.max_parts = 3;
    // Wed 11 and Thu 12 trade, Fri 13 is a holiday, then the weekend, Mon 16 trades.
    config.schedule.calendar = storage / "calendar.txt";
    std::ofstream(config.schedule.calendar) << "# test calendar\n2026-11-11\n2026-11-12\n2026-11-16\n2026-11-17\n";
    topics = kafka::Topics::from(config);
    for (const auto& t : topics.all()) REQUIRE(cluster->create_topic(t, t == topics.digest ? 3 : 1));
    templates = TemplateSet::load(test::source_dir() / "templates" / "messages", config);
    REQUIRE(templates.set);
    auto p = kafka::Producer::create(settings, "test-fanout", kafka::Producer::Mode::idempotent);
    REQUIRE(p);
    producer = std::move(*p);
    auto s = kafka::Consumer::create(settings, {"status-reader", "status-reader", true});
    REQUIRE(s);
    status_reader = std::move(*s);
    REQUIRE(status_reader->assign_from_beginning(topics.status));
    for (const auto& topic : topics.deliveries) {
      auto r = kafka::Consumer::create(settings, {"tier-reader", "tier-reader", true});
      REQUIRE(r);
      REQUIRE((*r)->assign_from_beginning(topic));
      tier_readers.push_back(std::move(*r));
    }
  }
  ~Harness() {
    stop();
    tier_readers.clear();
    status_reader.reset();
    producer.reset();
    fs::remove_all(storage);
  }

  void start() {
    role = std::make_unique<DigestRole>(config, *templates.set, settings, topics, clock);
    REQUIRE(role->start());
  }
  void stop() {
    if (role) role->stop();
    role.reset();
  }

  // As fanout does: keyed by account.
  void publish(const std::vector<Delivery>& items) {
    for (const auto& d : items) REQUIRE(producer->produce(topics.digest, d.account, serialize(d)));
    REQUIRE(producer->flush(10s));
  }

  void read() {
    for (auto& m : status_reader->poll_batch(500, 20ms)) {
      auto r = parse_status_record(m.value);
      REQUIRE(r);
      if (r->delivery) records[r->delivery->delivery_id].push_back(*r->delivery);
      if (r->digest_run) runs[r->digest_run->date].push_back(*r->digest_run);
    }
    for (auto& reader : tier_readers)
      for (auto& m : reader->poll_batch(500, 20ms)) {
        auto d = parse_delivery(m.value);
        REQUIRE(d);
        digests.push_back(ReadDigest{m.topic, m.key, std::move(*d)});
      }
  }

  // Reads the status and tier topics until `done` holds (bounded).
  bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      read();
      if (done()) return true;
    }
    return done();
  }
  // Waits for the digest_run record of `date`; its last one.
  DigestRun run_of(const std::string& date) {
    REQUIRE(wait_for([&] { return runs.contains(date); }));
    return runs[date].back();
  }
  std::vector<const ReadDigest*> digests_of(const std::string& date) {
    std::vector<const ReadDigest*> out;
    for (const auto& d : digests)
      if (d.delivery.event_id == "digest:" + date) out.push_back(&d);
    return out;
  }
  const ReadDigest* digest(const std::string& date, const std::string& account, Channel channel) {
    for (const auto* d : digests_of(date))
      if (d->delivery.account == account && d->delivery.channel == channel) return d;
    return nullptr;
  }
  bool item_in(const Delivery& item, DeliveryState state) {
    auto it = records.find(item.delivery_id);
    return it != records.end() && !it->second.empty() && it->second.back().state == state;
  }
};

std::vector<std::string> carried_events(const Delivery& digest) {
  std::vector<std::string> out;
  for (const auto& i : digest.data.at("items").as_array()) out.emplace_back(i.at("event_id").as_string());
  return out;
}

Delivery item(const std::string& account, const std::string& event, const char* occurred,
              Channel channel = Channel::sms, const std::string& tier = "advisor") {
  return test::follow_up(account, event, occurred, channel, tier);
}

}  // namespace

TEST_CASE("items are collected; at 08:45 on a trading day each account gets one digest per channel, items in order") {
  Harness h;
  h.start();
  const std::vector<Delivery> items{
      item("A1", "pick-3", "2026-11-10T15:00:00+08:00"),
      item("A1", "pick-1", "2026-11-10T09:00:00+08:00"),
      item("A1", "pick-2", "2026-11-10T10:00:00+08:00"),
      item("A1", "pick-1", "2026-11-10T09:00:00+08:00", Channel::email),
      item("A1", "pick-2", "2026-11-10T10:00:00+08:00", Channel::email),
      item("A2", "pick-1", "2026-11-10T09:00:00+08:00", Channel::sms, "research"),
  };
  h.publish(items);
  h.publish({items[0]});  // read twice (a redelivery), stored once
  REQUIRE(h.wait_for([&] { return h.role->stats().items + h.role->stats().duplicates == 7; }));
  CHECK(h.role->stats().items == 6);
  CHECK(h.role->stats().duplicates == 1);
  CHECK(h.role->pending_items() == 6);
  CHECK(h.role->stats().messages == 0);  // held until its time

  h.clock.set(at("2026-11-11T08:45:00+08:00"));
  const auto run = h.run_of("2026-11-11");
  CHECK(run.state == "sent");
  CHECK(run.trigger == "schedule");
  CHECK(run.accounts == 2);
  CHECK(run.messages == 3);
  CHECK(run.items == 6);
  CHECK(run.expired == 0);
  REQUIRE(h.wait_for([&] { return h.digests.size() == 3; }));

  const auto* a1_sms = h.digest("2026-11-11", "A1", Channel::sms);
  const auto* a1_mail = h.digest("2026-11-11", "A1", Channel::email);
  const auto* a2_sms = h.digest("2026-11-11", "A2", Channel::sms);
  REQUIRE(a1_sms);
  REQUIRE(a1_mail);
  REQUIRE(a2_sms);
  CHECK(carried_events(a1_sms->delivery) == std::vector<std::string>{"pick-1", "pick-2", "pick-3"});
  CHECK(carried_events(a1_mail->delivery) == std::vector<std::string>{"pick-1", "pick-2"});
  CHECK(carried_events(a2_sms->delivery) == std::vector<std::string>{"pick-1"});
  CHECK(a1_sms->topic == "sunbeam.deliveries.advisor");
  CHECK(a2_sms->topic == "sunbeam.deliveries.research");
  CHECK(a1_sms->key == "A1");
  CHECK(a1_sms->delivery.delivery_id == make_delivery_id("digest:2026-11-11", "A1", Channel::sms));
  CHECK(a1_sms->delivery.event_type == "digest");
  CHECK(a1_sms->delivery.priority == Priority::normal);
  CHECK(a1_sms->delivery.expires_at_ms == unix_ms(at("2026-11-11T09:25:00+08:00")));
  CHECK(a1_sms->delivery.recipient.address == "+8613800000003");
  CHECK(h.role->pending_items() == 0);
}

TEST_CASE("nothing is sent on a holiday; the items carry over to the next trading day") {
  Harness h;
  h.clock.set(at("2026-11-13T08:00:00+08:00"));  // Friday, not in the calendar
  h.start();
  h.publish({item("A1", "pick-1", "2026-11-12T15:00:00+08:00"), item("A1", "pick-2", "2026-11-13T07:30:00+08:00")});
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 2; }));

  h.clock.set(at("2026-11-13T08:45:00+08:00"));
  const auto skipped = h.run_of("2026-11-13");
  CHECK(skipped.state == "skipped");
  CHECK(skipped.trigger == "schedule");
  CHECK(skipped.messages == 0);
  CHECK(h.role->stats().messages == 0);
  CHECK(h.role->pending_items() == 2);

  h.clock.set(at("2026-11-16T08:45:00+08:00"));  // Monday
  const auto sent = h.run_of("2026-11-16");
  CHECK(sent.state == "sent");
  CHECK(sent.items == 2);
  CHECK(h.run_of("2026-11-14").state == "skipped");
  CHECK(h.run_of("2026-11-15").state == "skipped");
  REQUIRE(h.wait_for([&] { return h.digests.size() == 1; }));
  CHECK(carried_events(h.digests[0].delivery) == std::vector<std::string>{"pick-1", "pick-2"});
  CHECK(h.digests[0].delivery.event_id == "digest:2026-11-16");
  CHECK(h.runs["2026-11-13"].size() == 1);  // skipped once, though its time passed long ago
}

TEST_CASE("down at 08:45 and started at 09:00: the digest goes out on start (catch_up)") {
  Harness h;
  // Fanout held these while the digest role was down.
  h.publish({item("A1", "pick-1", "2026-11-10T15:00:00+08:00"), item("A2", "pick-1", "2026-11-10T15:00:00+08:00")});
  h.clock.set(at("2026-11-11T09:00:00+08:00"));
  h.start();
  const auto run = h.run_of("2026-11-11");
  CHECK(run.trigger == "catch_up");
  CHECK(run.state == "sent");
  CHECK(run.items == 2);  // the backlog was read before the run
  REQUIRE(h.wait_for([&] { return h.digests.size() == 2; }));
  CHECK(h.digest("2026-11-11", "A1", Channel::sms));
  CHECK(h.digest("2026-11-11", "A2", Channel::sms));
}

TEST_CASE("down at 08:45 and started at 10:00, after the cut-off: the day's items end expired") {
  Harness h;
  h.start();
  const std::vector<Delivery> missed{item("A1", "pick-1", "2026-11-10T15:00:00+08:00"),
                                     item("A1", "pick-2", "2026-11-10T16:00:00+08:00"),
                                     item("A2", "pick-1", "2026-11-10T15:00:00+08:00", Channel::email)};
  h.publish(missed);
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 3; }));
  h.stop();

  h.clock.set(at("2026-11-11T10:00:00+08:00"));
  const auto late = item("A1", "pick-3", "2026-11-11T09:50:00+08:00");
  h.publish({late});  // after the digest time: it waits for the next digest
  h.start();
  const auto run = h.run_of("2026-11-11");
  CHECK(run.state == "expired");
  CHECK(run.trigger == "catch_up");
  CHECK(run.expired == 3);
  CHECK(run.messages == 0);
  REQUIRE(h.wait_for([&] {
    return std::all_of(missed.begin(), missed.end(),
                       [&](const auto& d) { return h.item_in(d, DeliveryState::expired); });
  }));
  const auto& record = h.records[missed[0].delivery_id].back();
  CHECK(record.reason == "the digest of 2026-11-11 was not sent before the 09:25 cut-off");
  CHECK(record.event_id == "pick-1");
  CHECK(record.account == "A1");
  CHECK(record.channel == "sms");
  CHECK(h.role->stats().messages == 0);
  CHECK(h.role->stats().expired == 3);
  CHECK(h.role->pending_items() == 1);

  h.clock.set(at("2026-11-12T08:45:00+08:00"));
  CHECK(h.run_of("2026-11-12").items == 1);
  REQUIRE(h.wait_for([&] { return h.digests.size() == 1; }));
  CHECK(carried_events(h.digests[0].delivery) == std::vector<std::string>{"pick-3"});
}

TEST_CASE("request(date) sends at once, even on a holiday, and never twice for a date") {
  Harness h;
  h.clock.set(at("2026-11-13T14:00:00+08:00"));  // a holiday afternoon
  h.start();
  h.publish({item("A1", "pick-1", "2026-11-13T09:00:00+08:00"), item("A1", "pick-2", "2026-11-13T10:00:00+08:00")});
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 2; }));

  auto date = h.role->request("");
  REQUIRE(date);
  CHECK(*date == "2026-11-13");  // today in schedule.timezone
  const auto run = h.run_of("2026-11-13");
  CHECK(run.trigger == "now");
  CHECK(run.state == "sent");
  CHECK(run.items == 2);
  REQUIRE(h.wait_for([&] { return h.digests.size() == 1; }));
  // Asked for after that day's cut-off: it must be sent by the next one.
  CHECK(h.digests[0].delivery.expires_at_ms == unix_ms(at("2026-11-14T09:25:00+08:00")));

  h.publish({item("A1", "pick-3", "2026-11-13T15:00:00+08:00")});
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 3; }));
  REQUIRE(h.role->request("2026-11-13"));  // asked again (or the order replayed after a restart)
  REQUIRE(h.wait_for([&] { return h.role->stats().requests == 2; }));
  CHECK(h.role->stats().messages == 1);
  CHECK(h.role->pending_items() == 1);  // waits for the next digest

  auto bad = h.role->request("2026-13-01");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == "bad_date");
}

TEST_CASE("a run interrupted by a crash is finished on restart: what Kafka had is not produced again") {
  Harness h;
  h.start();
  std::vector<Delivery> items;
  for (int i = 0; i < 12; ++i) items.push_back(item("C" + std::to_string(i), "pick-1", "2026-11-10T15:00:00+08:00"));
  h.publish(items);
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 12; }));
  h.stop();

  // The 08:45 run, as a crash left it: planned, 7 digests produced, of which
  // the store heard of 5 before the process died.
  h.clock.set(at("2026-11-11T08:45:00+08:00"));
  {
    auto db = SqliteDb::open(digest_store_path(h.config));
    REQUIRE(db);
    auto store = DigestStore::open(*db);
    REQUIRE(store);
    auto schedule = DigestSchedule::create(h.config.schedule, {});
    REQUIRE(schedule);
    const DigestBuilder builder(h.config, *h.templates.set, *schedule);
    const DigestFrame frame{"2026-11-11", unix_ms(h.clock.now()), unix_ms(at("2026-11-11T09:25:00+08:00")),
                            unix_ms(h.clock.now())};
    REQUIRE((*store)->plan(
        "2026-11-11", "schedule", unix_ms(h.clock.now()),
        [&](const std::vector<HeldItem>& group) { return builder.build(frame, group); },
        [&](const Delivery&) { return h.topics.deliveries_for(0); }));
    std::vector<std::string> known;
    for (const auto& d : (*store)->unproduced("2026-11-11", 7)) {
      REQUIRE(h.producer->produce(d.topic, d.account, d.json));
      if (known.size() < 5) known.push_back(d.delivery_id);
    }
    REQUIRE(h.producer->flush(10s));
    REQUIRE((*store)->mark_produced(known, unix_ms(h.clock.now())));
  }
  h.start();
  const auto run = h.run_of("2026-11-11");
  CHECK(run.state == "sent");
  CHECK(run.messages == 12);
  REQUIRE(h.wait_for([&] { return h.digests.size() == 14; }));
  CHECK(h.role->stats().messages == 7);  // the 7 the store did not know of, the 2 in flight among them
  std::map<std::string, int> copies;
  for (const auto& d : h.digests) ++copies[d.delivery.delivery_id];
  CHECK(copies.size() == 12);
  int twice = 0;
  for (int i = 0; i < 12; ++i) {
    const auto id = make_delivery_id("digest:2026-11-11", "C" + std::to_string(i), Channel::sms);
    CHECK(copies[id] >= 1);
    twice += copies[id] == 2;
  }
  CHECK(twice == 2);  // only those in flight at the crash, with the same ids: dispatch's ledger sends them once
  CHECK(h.role->pending_items() == 0);
}

TEST_CASE("stopped in the middle of a run and started again: every digest exactly once, no item lost") {
  Harness h;
  h.start();
  constexpr int accounts = 1200;  // three produce batches
  std::vector<Delivery> items;
  for (int i = 0; i < accounts; ++i)
    items.push_back(item("M" + std::to_string(i), "pick-1", "2026-11-10T15:00:00+08:00"));
  h.publish(items);
  REQUIRE(h.wait_for([&] { return h.role->stats().items == accounts; }));

  h.clock.set(at("2026-11-11T08:45:00+08:00"));
  REQUIRE(h.wait_for([&] { return h.role->stats().messages > 0; }));
  h.stop();  // wherever the run is: between two batches, or done
  h.start();
  const auto run = h.run_of("2026-11-11");
  CHECK(run.state == "sent");
  CHECK(run.items == accounts);
  REQUIRE(h.wait_for([&] { return h.digests.size() >= std::size_t(accounts); }));
  std::map<std::string, int> copies;
  for (const auto& d : h.digests) ++copies[d.delivery.delivery_id];
  CHECK(h.digests.size() == std::size_t(accounts));
  CHECK(copies.size() == std::size_t(accounts));
  CHECK(h.role->pending_items() == 0);
  CHECK(h.runs["2026-11-11"].size() == 1);
}

TEST_CASE("a long SMS digest shows a count within sms.max_parts; the e-mail lists every item") {
  Harness h;
  h.start();
  std::vector<Delivery> items;
  for (int i = 0; i < 20; ++i) {
    char occurred[40];
    std::snprintf(occurred, sizeof occurred, "2026-11-10T10:%02d:00+08:00", i);
    for (Channel channel : {Channel::sms, Channel::email}) {
      auto d = item("A1", "pick-" + std::to_string(i), occurred, channel);
      d.data["name"] = "股票" + std::to_string(i);
      items.push_back(d);
    }
  }
  h.publish(items);
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 40; }));
  h.clock.set(at("2026-11-11T08:45:00+08:00"));
  REQUIRE(h.wait_for([&] { return h.digests.size() == 2; }));

  const auto render = [&](const Delivery& d) {
    auto m = h.templates.set->render({digest_template, d.recipient.locale, d.channel, template_vars(d), false},
                                     h.config.sms, h.config.defaults.locale);
    REQUIRE(m);
    return *m;
  };
  const auto& sms = h.digest("2026-11-11", "A1", Channel::sms)->delivery;
  const auto shown = sms.data.at("shown").as_array().size();
  CHECK(shown > 0);
  CHECK(sms.data.at("more").as_int64() == std::int64_t(20 - shown));
  CHECK(sms.data.at("items").as_array().size() == 20);
  const auto text = render(sms);
  CHECK(text.sms.parts <= h.config.sms.max_parts);
  CHECK(text.text.find("另有" + std::to_string(20 - shown) + "条") != std::string::npos);

  const auto mail = render(h.digest("2026-11-11", "A1", Channel::email)->delivery);
  for (int i = 0; i < 20; ++i)
    CHECK_MESSAGE(mail.text.find(std::to_string(i + 1) + ". 股票" + std::to_string(i) + "（") != std::string::npos, i);
}

TEST_CASE("cancel_event ends that event's held items cancelled, also those read later") {
  Harness h;
  h.start();
  const auto bad_a1 = item("A1", "bad", "2026-11-10T15:00:00+08:00");
  const auto bad_a2 = item("A2", "bad", "2026-11-10T15:00:00+08:00");
  const auto good = item("A1", "good", "2026-11-10T16:00:00+08:00");
  h.publish({bad_a1, bad_a2, good});
  REQUIRE(h.wait_for([&] { return h.role->stats().items == 3; }));

  h.role->cancel_event("bad");
  h.role->cancel_event("bad");  // idempotent
  REQUIRE(h.wait_for(
      [&] { return h.item_in(bad_a1, DeliveryState::cancelled) && h.item_in(bad_a2, DeliveryState::cancelled); }));
  CHECK(h.records[bad_a1.delivery_id].back().reason == "cancelled by an operator");
  const auto bad_a3 = item("A3", "bad", "2026-11-10T15:00:00+08:00");
  h.publish({bad_a3});
  REQUIRE(h.wait_for([&] { return h.item_in(bad_a3, DeliveryState::cancelled); }));
  CHECK(h.role->stats().cancelled == 3);
  CHECK(h.role->pending_items() == 1);

  h.clock.set(at("2026-11-11T08:45:00+08:00"));
  const auto run = h.run_of("2026-11-11");
  CHECK(run.messages == 1);
  CHECK(run.items == 1);
  REQUIRE(h.wait_for([&] { return h.digests.size() == 1; }));
  CHECK(carried_events(h.digests[0].delivery) == std::vector<std::string>{"good"});
}
