#include "engine/fanout/audience_planner.h"
#include "tests/support/test_config.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

// A directory of eight subscribers, each there to exercise one rule.
struct Fixture {
  Config config = test::small_config();
  fs::path dir = fs::temp_directory_path() / ("sunbeam-planner-" + std::to_string(::getpid()));
  Directory directory;

  Fixture() {
    fs::create_directories(dir);
    write("subscribers.csv",
          "account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n"
          "A1,张伟,advisor,13800000001,a1@example.com,zh-CN,sms+email,,,\n"
          "A2,Alice Wong,advisor,13800000002,a2@example.com,en,sms,,,\n"
          "R1,李娜,research,13800000003,r1@example.com,zh-CN,sms+email,,,email\n"
          "R2,王芳,research,13800000004,r2@example.com,,email,,,rating_change\n"
          "B1,刘强,basic,13800000005,,zh-CN,sms,,,\n"
          "B2,陈静,basic,13800000006,b2@example.com,zh-CN,sms+email,,,\n"
          "B3,Brian Lee,basic,,b3@example.com,en,email,,,\n"
          "R3,赵磊,research,13800000008,r3@example.com,zh-CN,sms+email,,,\n");
    write("holdings.csv", "account_id,symbol\nA1,600519.SH\nR2,600519.SH\nB1,600519.SH\nR1,601318.SH\n");
    write("watchlist.csv", "account_id,symbol\nA2,300750.SZ\nR3,300750.SZ\n");
    config.directory = {dir / "subscribers.csv", dir / "holdings.csv", dir / "watchlist.csv"};
    auto load = load_directory(config.directory, config);
    for (const auto& p : load.problems) FAIL(p.to_string());
    directory = std::move(load.directory);
  }
  ~Fixture() { fs::remove_all(dir); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }

  struct Outcome {
    std::map<std::string, std::string> by_key;  // "account/channel" -> state[:reason]
    FanoutSummary summary;
    std::vector<PlannedDelivery> planned;
  };
  Outcome plan(const std::string& json) {
    auto event = parse_event(json, config);
    REQUIRE_MESSAGE(event, json);
    Outcome out;
    AudiencePlanner planner(config, directory);
    out.summary = planner.plan(*event, [&](PlannedDelivery&& p) {
      std::string v(to_string(p.state));
      if (!p.reason.empty()) v += ":" + p.reason;
      const auto channel = p.delivery.tier.empty() ? std::string("-") : std::string(to_string(p.delivery.channel));
      out.by_key[p.delivery.account + "/" + channel] = v;
      out.planned.push_back(std::move(p));
    });
    return out;
  }
};

}  // namespace

TEST_CASE("all: every entitled tier on its channels, the customer's choice of channels respected") {
  Fixture f;
  auto o = f.plan(R"({"id":"n1","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","data":{"title":"休市"}})");
  // B3 chose e-mail only and basic gets SMS only: not planned, not recorded.
  const std::map<std::string, std::string> expected{
      {"A1/sms", "planned"},  {"A1/email", "planned"}, {"A2/sms", "planned"},
      {"R1/sms", "planned"},  {"R1/email", "suppressed:opt_out"},  // refused e-mail
      {"R2/email", "planned"},                                     // chose e-mail only
      {"R3/sms", "planned"},  {"R3/email", "planned"},
      {"B1/sms", "planned"},  {"B2/sms", "planned"},               // basic: SMS only
  };
  CHECK(o.by_key == expected);
  CHECK(o.summary.total() == std::int64_t(expected.size()));
}

TEST_CASE("a broadcast to paid tiers skips basic silently") {
  Fixture f;
  auto o = f.plan(R"({"id":"m1","type":"market_summary","occurred_at":"2026-11-25T15:00:00+08:00"})");
  for (const auto& [key, state] : o.by_key) CHECK_MESSAGE(key[0] != 'B', key);
  CHECK(o.by_key.at("A2/sms") == "planned");
}

TEST_CASE("holders: unentitled holders are recorded as suppressed: entitlement; type opt-outs apply") {
  Fixture f;
  auto o = f.plan(R"({"id":"r1","type":"rating_change","symbol":"600519.SH","occurred_at":"2026-11-25T09:00:00+08:00"})");
  CHECK(o.by_key.at("A1/sms") == "planned");
  CHECK(o.by_key.at("A1/email") == "planned");
  CHECK(o.by_key.at("R2/email") == "suppressed:opt_out");   // refused rating_change
  CHECK(o.by_key.at("B1/sms") == "suppressed:entitlement"); // basic holds it but is not entitled
  CHECK(o.by_key.size() == 4);
}

TEST_CASE("watchers of a digest type are held for the digest; urgent never waits") {
  Fixture f;
  auto o = f.plan(R"({"id":"f1","type":"stock_pick_followup","symbol":"300750.SZ","occurred_at":"2026-11-25T09:00:00+08:00"})");
  CHECK(o.by_key.at("A2/sms") == "digest");
  CHECK(o.by_key.at("R3/sms") == "digest");
  CHECK(o.summary.counts.size() >= 1);
  auto u = f.plan(R"({"id":"f2","type":"stock_pick_followup","symbol":"300750.SZ","priority":"urgent","occurred_at":"2026-11-25T09:00:00+08:00"})");
  CHECK(u.by_key.at("A2/sms") == "planned");
}

TEST_CASE("named accounts: per-account data merged, unknown accounts recorded") {
  Fixture f;
  auto o = f.plan(R"({"id":"al1","type":"allotment_result","symbol":"688999.SH","occurred_at":"2026-11-25T18:00:00+08:00",
    "data":{"name":"新股","lots":0},"audience":{"accounts":[{"account":"B1","data":{"lots":2}},"A2","ZZZ"]}})");
  CHECK(o.by_key.at("B1/sms") == "planned");
  CHECK(o.by_key.at("A2/sms") == "planned");
  CHECK(o.by_key.at("ZZZ/-") == "suppressed:unknown_account");
  for (const auto& p : o.planned) {
    if (p.delivery.account == "B1") {
      CHECK(p.delivery.data.at("lots").as_int64() == 2);
      CHECK(p.delivery.data.at("name").as_string() == "新股");
      CHECK(p.delivery.recipient.address == "+8613800000005");
      CHECK(p.delivery.tier == "basic");
      CHECK(p.delivery.delivery_id == make_delivery_id("al1", "B1", Channel::sms));
    }
    if (p.delivery.account == "A2") CHECK(p.delivery.data.at("lots").as_int64() == 0);
  }
}

TEST_CASE("audience.tiers narrows; the locale falls back to the default") {
  Fixture f;
  auto o = f.plan(R"({"id":"n2","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","audience":{"tiers":["research"]}})");
  for (const auto& [key, state] : o.by_key) CHECK_MESSAGE(key[0] == 'R', key);
  for (const auto& p : o.planned)
    if (p.delivery.account == "R2") CHECK(p.delivery.recipient.locale == "zh-CN");
}
