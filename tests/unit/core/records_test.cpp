#include "engine/core/delivery.h"
#include "engine/core/masking.h"
#include "engine/core/status_record.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <thread>

using namespace sunbeam;

TEST_CASE("delivery ids are stable, 32 hex digits, and differ by event, account and channel") {
  const auto id = make_delivery_id("e-1", "A1", Channel::sms);
  CHECK(id.size() == 32);
  CHECK(id == make_delivery_id("e-1", "A1", Channel::sms));
  CHECK(id != make_delivery_id("e-1", "A1", Channel::email));
  CHECK(id != make_delivery_id("e-1", "A2", Channel::sms));
  CHECK(id != make_delivery_id("e-2", "A1", Channel::sms));
  // The NUL separator keeps ("e-1","A1x") and ("e-1A","1x") apart.
  CHECK(make_delivery_id("ab", "c", Channel::sms) != make_delivery_id("a", "bc", Channel::sms));
  // Pinned: every role and every release must derive the same id.
  CHECK(make_delivery_id("e-1", "A1", Channel::sms) == make_delivery_id("e-1", "A1", "sms"));
  // The first 128 bits of SHA-256("e-1\0A1\0sms"), as Python's hashlib gives them.
  CHECK(make_delivery_id("e-1", "A1", Channel::sms) == "a33bf2ea296033e53921bd2e37ad56c1");
}

TEST_CASE("delivery ids are the same from every thread") {
  const auto here = make_delivery_id("e-1", "A1", Channel::sms);
  std::string there;
  std::thread([&] { there = make_delivery_id("e-1", "A1", Channel::sms); }).join();
  CHECK(there == here);
}

TEST_CASE("a delivery survives serialisation") {
  Delivery d;
  d.delivery_id = make_delivery_id("e", "A1", Channel::email);
  d.event_id = "e";
  d.event_type = "notice";
  d.account = "A1";
  d.tier = "research";
  d.channel = Channel::email;
  d.priority = Priority::urgent;
  d.expires_at = "2026-11-25T15:00:00+08:00";
  d.expires_at_ms = 1795590000000;
  d.recipient = {"张伟", "zhang.wei@example.com", "zh-CN", "Asia/Shanghai", QuietHours{1290, 480}};
  d.data["title"] = "休市通知";
  auto back = parse_delivery(serialize(d));
  REQUIRE(back);
  CHECK(back->delivery_id == d.delivery_id);
  CHECK(back->channel == Channel::email);
  CHECK(back->priority == Priority::urgent);
  CHECK(back->expires_at_ms == d.expires_at_ms);
  CHECK(back->recipient.name == "张伟");
  CHECK(back->recipient.quiet_hours == QuietHours{1290, 480});
  CHECK(back->data.at("title").as_string() == "休市通知");
  CHECK_FALSE(parse_delivery("{}"));
  CHECK_FALSE(parse_delivery("nope"));
}

TEST_CASE("status records and fan-out summaries round-trip") {
  StatusRecord r;
  r.delivery_id = "d";
  r.event_id = "e";
  r.state = DeliveryState::suppressed;
  r.reason = "opt_out";
  r.channel = "sms";
  r.tier = "basic";
  auto back = parse_status_record(serialize(r));
  REQUIRE(back);
  REQUIRE(back->delivery);
  CHECK(back->delivery->state == DeliveryState::suppressed);
  CHECK(back->delivery->reason == "opt_out");

  FanoutSummary s{"e", "notice", {{"basic", "sms", 5, 1, 2}}, 42};
  auto sb = parse_status_record(serialize(s));
  REQUIRE(sb);
  REQUIRE(sb->fanout);
  CHECK(sb->fanout->total() == 8);
  CHECK(sb->fanout->counts.at(0).digest == 1);
  CHECK_FALSE(parse_status_record(R"({"record":"delivery","state":"lost"})"));
}

TEST_CASE("terminal states") {
  CHECK_FALSE(is_terminal(DeliveryState::planned));
  CHECK_FALSE(is_terminal(DeliveryState::deferred));
  CHECK_FALSE(is_terminal(DeliveryState::digest));
  for (auto s : {DeliveryState::sent, DeliveryState::delivered, DeliveryState::undelivered, DeliveryState::failed,
                 DeliveryState::suppressed, DeliveryState::cancelled, DeliveryState::expired})
    CHECK(is_terminal(s));
  for (int i = 0; i < delivery_state_count; ++i) CHECK(parse_delivery_state(to_string(DeliveryState(i))) == DeliveryState(i));
}

TEST_CASE("personal data is masked") {
  CHECK(mask_phone("13812345678") == "138****5678");
  CHECK(mask_phone("+8613812345678") == "+86138****5678");
  CHECK(mask_email("zhang.wei@example.com") == "z***@example.com");
  CHECK(mask_address("li.na@example.com") == "l***@example.com");
}
