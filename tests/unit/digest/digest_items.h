// Digest items as fanout plans them, for the digest tests: stock pick
// follow-ups (the default digest type) held for one account and channel.
#pragma once

#include "engine/core/delivery.h"

#include <string>

namespace sunbeam::test {

inline Delivery follow_up(const std::string& account, const std::string& event_id, const std::string& occurred_at,
                          Channel channel = Channel::sms, const std::string& tier = "advisor",
                          const std::string& locale = "zh-CN") {
  Delivery d;
  d.event_id = event_id;
  d.event_type = "stock_pick_followup";
  d.delivery_id = make_delivery_id(d.event_id, account, channel);
  d.account = account;
  d.tier = tier;
  d.channel = channel;
  d.symbol = "300750.SZ";
  d.occurred_at = occurred_at;
  d.recipient = {"李娜", channel == Channel::sms ? "+8613800000003" : "lina@example.com", locale, "", {}};
  d.data = {{"name", "宁德时代"}, {"pick_date", "2026-11-03"}, {"return_pct", "+6.4%"}, {"advice", "继续持有"}};
  return d;
}

}  // namespace sunbeam::test
