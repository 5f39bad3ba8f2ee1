#include "engine/status/event_status.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

StatusRecord record(std::string id, DeliveryState state, std::string reason = {}) {
  StatusRecord r;
  r.delivery_id = std::move(id);
  r.event_id = "e";
  r.tier = "basic";
  r.channel = "sms";
  r.state = state;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

TEST_CASE("an event settles when every planned delivery is terminal or held for the digest") {
  EventStatusBuilder b("e");
  CHECK_FALSE(b.status().settled());
  b.apply(record("s1", DeliveryState::suppressed, "opt_out"), std::nullopt);
  b.apply(FanoutSummary{"e", "notice", {{"basic", "sms", 2, 1, 1}}, 0});
  const auto& s = b.status();
  CHECK(s.fanned_out);
  CHECK(s.fanouts == 1);
  CHECK_FALSE(s.settled());
  CHECK(s.totals().planned == 4);
  CHECK(s.totals().waiting() == 2);

  b.apply(record("d1", DeliveryState::sent), std::nullopt);
  CHECK_FALSE(b.status().settled());
  b.apply(record("d2", DeliveryState::deferred), std::nullopt);
  CHECK_FALSE(b.status().settled());  // deferred is not terminal
  b.apply(record("d2", DeliveryState::sent), DeliveryState::deferred);
  CHECK(b.status().settled());
  const auto t = b.status().totals();
  CHECK(t.count(DeliveryState::sent) == 2);
  CHECK(t.count(DeliveryState::deferred) == 0);
  CHECK(t.suppressed_by_reason.at("opt_out") == 1);
  CHECK(t.waiting() == 0);

  // A re-sent delivery (dispatch after a crash) does not count twice.
  b.apply(record("d1", DeliveryState::sent), DeliveryState::sent);
  CHECK(b.status().totals().count(DeliveryState::sent) == 2);

  const auto json = b.status().to_json();
  CHECK(json.at("settled").as_bool());
  CHECK(json.at("totals").as_object().at("sent").as_int64() == 2);
  CHECK(json.at("groups").as_array().size() == 1);
}

TEST_CASE("items held for the digest leave `digest` as the digest records them, and the event comes to rest") {
  EventStatusBuilder b("e");
  b.apply(FanoutSummary{"e", "stock_pick_followup", {{"basic", "sms", 0, 3, 1}}, 0});
  b.apply(record("s1", DeliveryState::suppressed, "opt_out"), std::nullopt);
  CHECK(b.status().totals().held() == 3);
  CHECK(b.status().settled());  // held for the digest is not in flight
  b.apply(record("i1", DeliveryState::sent, "digest d-1"), std::nullopt);
  b.apply(record("i2", DeliveryState::expired, "digest cut-off passed"), std::nullopt);
  const auto t = b.status().totals();
  CHECK(t.held() == 1);
  CHECK(t.count(DeliveryState::sent) == 1);
  CHECK(t.count(DeliveryState::expired) == 1);
  CHECK(t.waiting() == 0);
  CHECK(b.status().to_json().at("totals").at("digest").as_int64() == 1);
  b.apply(record("i3", DeliveryState::cancelled), std::nullopt);
  CHECK(b.status().totals().held() == 0);
  CHECK(b.status().at_rest());
}
