// What dispatch hands a connector, from the shipped templates.
#include "engine/dispatch/dispatch_role.h"
#include "tests/support/source_dir.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

Delivery delivery(Channel channel, std::string locale, std::string type = "risk_alert") {
  Delivery d;
  d.delivery_id = make_delivery_id("e-risk", "A1", channel);
  d.event_id = "e-risk";
  d.event_type = std::move(type);
  d.account = "A1";
  d.tier = "advisor";
  d.channel = channel;
  d.symbol = "601318.SH";
  d.occurred_at = "2026-11-25T10:00:00+08:00";
  d.recipient = {"张伟", channel == Channel::sms ? "+8613800000001" : "zhang.wei@example.com", std::move(locale), "", {}};
  d.data = {{"name", "中国平安"}, {"level", "高"}, {"message", "盘中跌幅超过7%"}};
  return d;
}

struct Fixture {
  Config config = test::small_config();
  TemplateLoad load;
  Fixture() {
    config.sms.max_parts = 5;
    load = TemplateSet::load(test::source_dir() / "templates" / "messages", config);
    for (const auto& p : load.problems) FAIL(p.to_string());
    REQUIRE(load.set);
  }
};

}  // namespace

TEST_CASE("an SMS: signed, counted, addressed") {
  Fixture f;
  DeliveryRenderer r(f.config, *f.load.set);
  auto m = r.render(delivery(Channel::sms, "zh-CN"));
  REQUIRE(m);
  CHECK(m->to == "+8613800000001");
  CHECK(m->body.starts_with("【阳光证券】"));
  CHECK(m->body.find("中国平安") != std::string::npos);
  CHECK(m->encoding == "ucs2");
  CHECK(m->parts >= 1);
  CHECK(m->delivery_id == make_delivery_id("e-risk", "A1", Channel::sms));
}

TEST_CASE("an e-mail: subject, text and HTML parts") {
  Fixture f;
  DeliveryRenderer r(f.config, *f.load.set);
  auto m = r.render(delivery(Channel::email, "en"));
  REQUIRE(m);
  CHECK_FALSE(m->subject.empty());
  CHECK(m->subject.find('\n') == std::string::npos);
  CHECK(m->body.find("中国平安") != std::string::npos);
  CHECK(m->html.find('<') != std::string::npos);
}

TEST_CASE("a locale without templates falls back to the default locale") {
  Fixture f;
  DeliveryRenderer r(f.config, *f.load.set);
  auto m = r.render(delivery(Channel::sms, "fr"));
  REQUIRE(m);
  CHECK(m->body.find("中国平安") != std::string::npos);
}

TEST_CASE("a text over sms.max_parts is refused as too long, not sent truncated") {
  Fixture f;
  f.config.sms.max_parts = 1;
  DeliveryRenderer r(f.config, *f.load.set);
  auto d = delivery(Channel::sms, "zh-CN");
  std::string long_message;
  for (int i = 0; i < 200; ++i) long_message += "跌";
  d.data["message"] = long_message;
  auto m = r.render(d);
  REQUIRE_FALSE(m);
  CHECK(m.error().code == "too_long");
}

TEST_CASE("an event type removed from the config fails clearly") {
  Fixture f;
  DeliveryRenderer r(f.config, *f.load.set);
  auto m = r.render(delivery(Channel::sms, "zh-CN", "horoscope"));
  REQUIRE_FALSE(m);
  CHECK(m.error().code == "template");
}

TEST_CASE("a digest delivery renders from the digest template, without the marketing suffix") {
  Fixture f;
  f.config.sms.opt_out_suffix = "回T退订";
  DeliveryRenderer renderer(f.config, *f.load.set);
  auto d = delivery(Channel::sms, "zh-CN", "digest");
  d.event_id = "digest:2026-11-25";
  d.data = {{"date", "2026-11-25"}, {"count", 3}, {"more", 1},
            {"shown", boost::json::array{boost::json::object{{"n", 1}, {"symbol", "600519.SH"}, {"data", {{"name", "贵州茅台"}}}},
                                         boost::json::object{{"n", 2}, {"symbol", "000001.SZ"}, {"data", {{"name", "平安银行"}}}}}}};
  auto m = renderer.render(d);
  REQUIRE(m);
  CHECK(m->body.find("贵州茅台") != std::string::npos);
  CHECK(m->body.find("平安银行") != std::string::npos);
  CHECK(m->body.find("回T退订") == std::string::npos);
  CHECK(m->parts >= 1);
  auto email = renderer.render(delivery(Channel::email, "en", "digest"));
  REQUIRE(email);
  CHECK_FALSE(email->subject.empty());
}
