// A small hand-built Config for unit tests that should not depend on YAML
// loading: three tiers and the ten default event types, entitled roughly as
// the sample config entitles them.
#pragma once

#include "config/config.h"

namespace sunbeam::test {

inline Config small_config() {
  Config c;
  c.tiers = {"advisor", "research", "basic"};
  const auto type = [&](std::string name, AudienceKind audience, std::map<std::string, std::vector<Channel>> channels,
                        bool symbol = true) {
    EventTypeConfig t;
    t.name = name;
    t.template_name = name;
    t.audience = audience;
    t.channels = std::move(channels);
    t.symbol_required = symbol;
    c.event_types.push_back(std::move(t));
    return &c.event_types.back();
  };
  using enum Channel;
  const std::map<std::string, std::vector<Channel>> everyone{
      {"advisor", {sms, email}}, {"research", {sms, email}}, {"basic", {sms}}};
  const std::map<std::string, std::vector<Channel>> paid{{"advisor", {sms, email}}, {"research", {sms, email}}};
  c.event_types.reserve(10);
  type("ipo_subscription", AudienceKind::all, everyone);
  type("allotment_result", AudienceKind::explicit_accounts, everyone);
  type("listing_reminder", AudienceKind::holders, everyone);
  type("rating_change", AudienceKind::holders, paid);
  type("holding_announcement", AudienceKind::holders, everyone);
  type("stock_pick", AudienceKind::tiers, paid)->marketing = true;
  type("stock_pick_followup", AudienceKind::watchers, paid)->digest = true;
  type("market_summary", AudienceKind::all, paid, false);
  type("risk_alert", AudienceKind::holders, {{"advisor", {sms, email}}, {"research", {sms}}})->priority = Priority::urgent;
  type("notice", AudienceKind::all, everyone, false);
  c.defaults.locale = "zh-CN";
  c.sms.signature = "【阳光证券】";
  return c;
}

}  // namespace sunbeam::test
