// Building one digest delivery: stable id, the freshest recipient snapshot,
// the items in order; an SMS shows what fits in sms.max_parts and counts the
// rest, an e-mail lists every item. Rendered with the shipped templates.
#include "engine/digest/digest_builder.h"
#include "engine/core/time_format.h"
#include "tests/support/source_dir.h"
#include "tests/support/test_config.h"
#include "tests/unit/digest/digest_items.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

struct Fixture {
  Config config = test::small_config();
  TemplateLoad templates;
  std::optional<DigestSchedule> schedule;
  std::optional<DigestBuilder> builder;
  DigestFrame frame{"2026-11-12", *parse_rfc3339_ms("2026-11-12T08:45:00+08:00"),
                    *parse_rfc3339_ms("2026-11-12T09:25:00+08:00"), *parse_rfc3339_ms("2026-11-12T08:45:01+08:00")};

  Fixture() {
    config.sms.max_parts = 3;
    templates = TemplateSet::load(test::source_dir() / "templates" / "messages", config);
    REQUIRE(templates.set);
    auto s = DigestSchedule::create(config.schedule, {});
    REQUIRE(s);
    schedule.emplace(*s);
    builder.emplace(config, *templates.set, *schedule);
  }

  // n follow-ups of one account on `channel`, oldest first, each a distinct event.
  std::vector<HeldItem> items(int n, Channel channel = Channel::sms, const std::string& locale = "zh-CN") {
    std::vector<HeldItem> out;
    for (int i = 0; i < n; ++i) {
      char occurred[40];
      std::snprintf(occurred, sizeof occurred, "2026-11-11T%02d:%02d:00+08:00", 9 + i / 60, i % 60);
      auto d = test::follow_up("A0003", "follow-" + std::to_string(i), occurred, channel, "advisor", locale);
      d.data["name"] = "股票" + std::to_string(i);
      out.push_back(HeldItem{std::move(d), 0, i + 1});
    }
    return out;
  }

  RenderedMessage render(const Delivery& d) {
    const auto vars = template_vars(d);
    auto m = templates.set->render({digest_template, d.recipient.locale, d.channel, vars, false}, config.sms,
                                   config.defaults.locale);
    REQUIRE(m);
    return *m;
  }
};

std::vector<std::string> item_ids(const boost::json::array& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.emplace_back(i.at("event_id").as_string());
  return out;
}

}  // namespace

TEST_CASE("a digest is one delivery of event type digest, with a stable id and the freshest recipient") {
  Fixture f;
  auto items = f.items(2);
  items[0].delivery.recipient.name = "李娜（旧）";
  items[0].seq = 9;  // stored last: the freshest snapshot, though it occurred first
  items[0].delivery.tier = "research";
  const auto d = f.builder->build(f.frame, items);
  CHECK(d.event_id == "digest:2026-11-12");
  CHECK(d.event_type == "digest");
  CHECK(d.delivery_id == make_delivery_id("digest:2026-11-12", "A0003", Channel::sms));
  CHECK(d.delivery_id == f.builder->build(f.frame, items).delivery_id);  // a re-run names it the same
  CHECK(d.account == "A0003");
  CHECK(d.channel == Channel::sms);
  CHECK(d.priority == Priority::normal);
  CHECK(d.recipient.name == "李娜（旧）");
  CHECK(d.tier == "research");
  CHECK(d.expires_at_ms == f.frame.expires_at_ms);
  CHECK(d.expires_at == "2026-11-12T01:25:00.000Z");
  CHECK(d.occurred_at == "2026-11-12T00:45:00.000Z");
  CHECK(d.data.at("date").as_string() == "2026-11-12");
  CHECK(d.data.at("count").as_int64() == 2);
  const auto& list = d.data.at("items").as_array();
  CHECK(item_ids(list) == std::vector<std::string>{"follow-0", "follow-1"});
  const auto& first = list[0].as_object();
  CHECK(first.at("n").as_int64() == 1);
  CHECK(first.at("delivery_id").as_string() == items[0].delivery.delivery_id);
  CHECK(first.at("event_type").as_string() == "stock_pick_followup");
  CHECK(first.at("symbol").as_string() == "300750.SZ");
  CHECK(first.at("occurred_at").as_string() == "2026-11-11T09:00:00+08:00");
  CHECK(first.at("time").as_string() == "2026-11-11 09:00");
  CHECK(first.at("data").at("return_pct").as_string() == "+6.4%");
  // Round trip through Kafka's bytes.
  auto back = parse_delivery(serialize(d));
  REQUIRE(back);
  CHECK(back->data == d.data);
}

TEST_CASE("an SMS digest shows every item when they fit") {
  Fixture f;
  const auto d = f.builder->build(f.frame, f.items(2));
  CHECK(d.data.at("shown").as_array().size() == 2);
  CHECK_FALSE(d.data.contains("more"));
  const auto m = f.render(d);
  CHECK(m.sms.parts <= f.config.sms.max_parts);
  CHECK(m.text.find("另有") == std::string::npos);
}

TEST_CASE("an SMS digest with many items shows those that fit in sms.max_parts and counts the rest") {
  Fixture f;
  for (const auto& [locale, more_text] : {std::pair{"zh-CN", "另有"}, std::pair{"en", "and "}}) {
    INFO(locale);
    const auto items = f.items(30, Channel::sms, locale);
    auto d = f.builder->build(f.frame, items);
    const auto& shown = d.data.at("shown").as_array();
    REQUIRE(shown.size() > 0);
    REQUIRE(shown.size() < 30);
    CHECK(d.data.at("more").as_int64() == std::int64_t(30 - shown.size()));
    CHECK(d.data.at("items").as_array().size() == 30);  // dispatch records the outcome of each
    auto first = item_ids(d.data.at("items").as_array());
    first.resize(shown.size());
    CHECK(item_ids(shown) == first);  // the oldest
    const auto m = f.render(d);
    CHECK(m.sms.parts <= f.config.sms.max_parts);
    CHECK(m.text.starts_with(f.config.sms.signature));
    CHECK(m.text.find(more_text + std::to_string(30 - shown.size())) != std::string::npos);
    // As many as fit: one more item would not.
    const auto n = shown.size();
    d.data["shown"] = boost::json::array(d.data.at("items").as_array().begin(),
                                         d.data.at("items").as_array().begin() + std::ptrdiff_t(n + 1));
    d.data["more"] = std::int64_t(30 - n - 1);
    CHECK(f.render(d).sms.parts > f.config.sms.max_parts);
  }
}

TEST_CASE("an e-mail digest lists every item and has no SMS selection") {
  Fixture f;
  const auto d = f.builder->build(f.frame, f.items(30, Channel::email));
  CHECK_FALSE(d.data.contains("shown"));
  CHECK_FALSE(d.data.contains("more"));
  const auto m = f.render(d);
  CHECK(m.subject == "【盘前摘要】2026-11-12：您关注的30条动态");
  for (int i = 0; i < 30; ++i) {
    const auto name = "股票" + std::to_string(i);
    CHECK_MESSAGE(m.text.find(std::to_string(i + 1) + ". " + name + "（300750.SZ）") != std::string::npos, name);
    CHECK_MESSAGE(m.html.find("<b>" + name + "</b>") != std::string::npos, name);
  }
}
