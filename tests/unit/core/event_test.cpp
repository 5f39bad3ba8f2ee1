#include "engine/core/event.h"
#include "tests/support/test_config.h"

#include <boost/json/parse.hpp>

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

const Config config = test::small_config();

Error rejected(std::string_view json) {
  auto r = parse_event(json, config);
  REQUIRE_MESSAGE(!r, "expected a rejection for " << json);
  return r.error();
}

}  // namespace

TEST_CASE("a well-formed event parses with its type's defaults") {
  auto e = parse_event(R"({"id":"e-1","type":"risk_alert","symbol":"601318.SH",
    "occurred_at":"2026-11-25T09:31:00+08:00","data":{"level":"高","name":"中国平安"}})", config);
  REQUIRE(e);
  CHECK(e->id == "e-1");
  CHECK(e->symbol == "601318.SH");
  CHECK(e->priority == Priority::urgent);  // from the type
  CHECK(e->occurred_at_ms == 1795570260000);
  CHECK(e->data.at("level").as_string() == "高");
}

TEST_CASE("each malformed field is named in the error") {
  CHECK(rejected("{not json").code == "malformed_json");
  CHECK(rejected("[1]").code == "not_an_object");
  CHECK(rejected(R"({"type":"notice","occurred_at":"2026-11-25T09:00:00+08:00"})").field == "id");
  auto bad_id = rejected(R"({"id":"has space","type":"notice","occurred_at":"2026-11-25T09:00:00+08:00"})");
  CHECK(bad_id.code == "invalid_field");
  CHECK(bad_id.field == "id");
  CHECK(rejected(std::string(R"({"id":")") + std::string(129, 'a') + R"(","type":"notice","occurred_at":"2026-11-25T09:00:00Z"})").field == "id");
  auto unknown = rejected(R"({"id":"e","type":"horoscope","occurred_at":"2026-11-25T09:00:00+08:00"})");
  CHECK(unknown.code == "unknown_type");
  CHECK(unknown.field == "type");
  CHECK(rejected(R"({"id":"e","type":"rating_change","occurred_at":"2026-11-25T09:00:00+08:00"})").field == "symbol");
  CHECK(rejected(R"({"id":"e","type":"rating_change","symbol":"600519","occurred_at":"2026-11-25T09:00:00+08:00"})").field == "symbol");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25 09:00"})").field == "occurred_at");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00"})").field == "occurred_at");  // no offset
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","priority":"high"})").field == "priority");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","expires_at":"2026-11-25T08:00:00Z"})").field == "expires_at");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","data":[1]})").field == "data");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","expire_at":"x"})").field == "expire_at");
}

TEST_CASE("audience: tiers must exist, accounts may carry data, explicit types need accounts") {
  auto unknown_tier = rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","audience":{"tiers":["gold"]}})");
  CHECK(unknown_tier.code == "unknown_tier");
  CHECK(unknown_tier.field == "audience.tiers");
  CHECK(rejected(R"({"id":"e","type":"allotment_result","symbol":"688999.SH","occurred_at":"2026-11-25T09:00:00Z"})").field ==
        "audience.accounts");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","audience":{"accounts":[{"data":{}}]}})").field ==
        "audience.accounts[0].account");
  CHECK(rejected(R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","audience":{"who":1}})").field == "audience.who");

  auto e = parse_event(R"({"id":"e","type":"allotment_result","symbol":"688999.SH","occurred_at":"2026-11-25T09:00:00Z",
    "audience":{"accounts":["A1",{"account":"A2","data":{"lots":2}}]}})", config);
  REQUIRE(e);
  REQUIRE(e->audience.accounts.size() == 2);
  CHECK(e->audience.accounts[0].account == "A1");
  CHECK(e->audience.accounts[1].data.at("lots").as_int64() == 2);
}

TEST_CASE("an event over 64 KiB is too large") {
  std::string big = R"({"id":"e","type":"notice","occurred_at":"2026-11-25T09:00:00Z","data":{"body":")" +
                    std::string(70000, 'x') + "\"}}";
  CHECK(rejected(big).code == "too_large");
}

TEST_CASE("to_json round-trips through parse_event") {
  auto e = parse_event(R"({"id":"e-2","type":"notice","occurred_at":"2026-11-25T09:00:00+08:00","priority":"urgent",
    "expires_at":"2026-11-25T15:00:00+08:00","audience":{"tiers":["basic"]},"data":{"title":"休市"}})", config);
  REQUIRE(e);
  auto again = parse_event_json(boost::json::value(to_json(*e)), config);
  REQUIRE(again);
  CHECK(again->priority == Priority::urgent);
  CHECK(again->expires_at_ms == e->expires_at_ms);
  CHECK(again->audience.tiers == std::vector<std::string>{"basic"});
  CHECK(canonical_json(boost::json::value(to_json(*again))) == canonical_json(boost::json::value(to_json(*e))));
}

TEST_CASE("canonical_json ignores key order, not values") {
  const auto a = canonical_json(boost::json::parse(R"({"b":1,"a":{"y":[1,2],"x":"中"}})"));
  const auto b = canonical_json(boost::json::parse(R"({"a":{"x":"中","y":[1,2]},"b":1})"));
  const auto c = canonical_json(boost::json::parse(R"({"a":{"x":"中","y":[2,1]},"b":1})"));
  CHECK(a == b);
  CHECK(a != c);
}
