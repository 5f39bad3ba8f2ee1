#include "engine/fanout/audience_planner.h"

#include <algorithm>
#include <map>

namespace sunbeam {

struct AudiencePlanner::Context {
  const Event& event;
  const EventTypeConfig& type;
  std::size_t type_index;
  bool targeted;                         // holders, watchers or named accounts
  std::vector<bool> tier_allowed;        // by audience.tiers; all true when absent
  const PlannedDeliverySink& sink;
  std::map<std::pair<std::size_t, Channel>, FanoutCount>& counts;
};

AudiencePlanner::AudiencePlanner(const Config& config, const Directory& directory)
    : config_(config), directory_(directory) {}

namespace {

std::size_t index_of(const Config& config, const EventTypeConfig& type) {
  return std::size_t(&type - config.event_types.data());
}

const std::vector<Channel>* entitled_channels(const EventTypeConfig& type, const std::string& tier) {
  const auto it = type.channels.find(tier);
  return it == type.channels.end() || it->second.empty() ? nullptr : &it->second;
}

boost::json::object merged_data(const Event& event, const NamedAccount* named) {
  if (!named || named->data.empty()) return event.data;
  boost::json::object data = event.data;
  for (const auto& kv : named->data) data[kv.key()] = kv.value();
  return data;
}

}  // namespace

FanoutSummary AudiencePlanner::plan(const Event& event, const PlannedDeliverySink& sink) const {
  const EventTypeConfig* type = config_.event_type(event.type);
  FanoutSummary summary{event.id, event.type, {}, 0};
  if (!type) return summary;  // parse_event already refuses unknown types

  std::map<std::pair<std::size_t, Channel>, FanoutCount> counts;
  Context ctx{event,
              *type,
              index_of(config_, *type),
              event.audience.names_accounts() || type->audience == AudienceKind::holders ||
                  type->audience == AudienceKind::watchers,
              std::vector<bool>(config_.tiers.size(), event.audience.tiers.empty()),
              sink,
              counts};
  for (const auto& t : event.audience.tiers)
    if (auto i = config_.tier_index(t)) ctx.tier_allowed[*i] = true;

  if (event.audience.names_accounts()) {
    for (const auto& named : event.audience.accounts) {
      if (const Subscriber* s = directory_.find(named.account)) {
        plan_subscriber(ctx, *s, &named);
        continue;
      }
      PlannedDelivery refused;
      refused.delivery.delivery_id = make_delivery_id(event.id, named.account, "none");
      refused.delivery.event_id = event.id;
      refused.delivery.event_type = event.type;
      refused.delivery.account = named.account;
      refused.state = DeliveryState::suppressed;
      refused.reason = "unknown_account";
      sink(std::move(refused));
    }
  } else {
    const auto each = [&](std::span<const SubscriberIndex> who) {
      for (SubscriberIndex i : who) plan_subscriber(ctx, directory_.at(i), nullptr);
    };
    switch (type->audience) {
      case AudienceKind::all:
      case AudienceKind::tiers:
      case AudienceKind::explicit_accounts:  // explicit without accounts is refused at ingest
        for (std::size_t t = 0; t < config_.tiers.size(); ++t)
          if (ctx.tier_allowed[t]) each(directory_.in_tier(t));
        break;
      case AudienceKind::holders: each(directory_.holders(event.symbol)); break;
      case AudienceKind::watchers: each(directory_.watchers(event.symbol)); break;
    }
  }
  for (auto& [key, count] : counts) summary.counts.push_back(std::move(count));
  return summary;
}

void AudiencePlanner::plan_subscriber(const Context& ctx, const Subscriber& s, const NamedAccount* named) const {
  if (!ctx.tier_allowed[s.tier]) return;
  const std::string& tier = config_.tiers[s.tier];
  const auto* channels = entitled_channels(ctx.type, tier);

  const auto emit = [&](Channel channel, DeliveryState state, std::string reason) {
    PlannedDelivery p;
    p.tier_index = s.tier;
    p.state = state;
    p.reason = std::move(reason);
    Delivery& d = p.delivery;
    d.delivery_id = make_delivery_id(ctx.event.id, s.account, channel);
    d.event_id = ctx.event.id;
    d.event_type = ctx.event.type;
    d.account = s.account;
    d.tier = tier;
    d.channel = channel;
    d.priority = ctx.event.priority;
    d.symbol = ctx.event.symbol;
    d.occurred_at = ctx.event.occurred_at;
    d.expires_at = ctx.event.expires_at;
    d.expires_at_ms = ctx.event.expires_at_ms;
    if (state != DeliveryState::suppressed) {
      d.recipient = Recipient{s.name, channel == Channel::sms ? s.mobile : s.email,
                              s.locale.empty() ? config_.defaults.locale : s.locale, s.timezone, s.quiet_hours};
      d.data = merged_data(ctx.event, named);
    }
    auto& count = ctx.counts[{s.tier, channel}];
    count.tier = tier;
    count.channel = std::string(to_string(channel));
    if (state == DeliveryState::planned) ++count.planned;
    else if (state == DeliveryState::digest) ++count.digest;
    else ++count.suppressed;
    ctx.sink(std::move(p));
  };

  if (!channels) {
    if (!ctx.targeted) return;
    for (Channel c : all_channels)
      if (s.channels.contains(c)) emit(c, DeliveryState::suppressed, "entitlement");
    return;
  }
  const bool hold_for_digest = ctx.type.digest && ctx.event.priority != Priority::urgent;
  for (Channel c : *channels) {
    if (!s.channels.contains(c)) continue;  // the customer's choice of channels, not a refusal
    if (s.opt_out_channels.contains(c)) {
      emit(c, DeliveryState::suppressed, "opt_out");
    } else if (s.opted_out_of(ctx.type_index)) {
      emit(c, DeliveryState::suppressed, "opt_out");
    } else if ((c == Channel::sms ? s.mobile : s.email).empty()) {
      emit(c, DeliveryState::suppressed, "no_address");
    } else {
      emit(c, hold_for_digest ? DeliveryState::digest : DeliveryState::planned, {});
    }
  }
}

}  // namespace sunbeam
