#include "engine/status/event_status.h"

namespace sunbeam {

std::int64_t StateCounts::terminal() const {
  std::int64_t n = 0;
  for (int s = 0; s < delivery_state_count; ++s)
    if (is_terminal(DeliveryState(s))) n += by_state[std::size_t(s)];
  return n;
}

std::int64_t StateCounts::waiting() const {
  // A delivery whose latest record is `planned` (a replay re-queued it) is
  // waiting too, so it is not counted as having an outcome.
  std::int64_t outcomes = 0;
  for (int s = 0; s < delivery_state_count; ++s)
    if (DeliveryState(s) != DeliveryState::planned) outcomes += by_state[std::size_t(s)];
  return std::max<std::int64_t>(0, planned - digest - outcomes);
}

std::int64_t StateCounts::held() const {
  if (summed || digest == 0) return digest;
  std::int64_t recorded = 0;
  for (int s = 0; s < delivery_state_count; ++s)
    if (DeliveryState(s) != DeliveryState::suppressed) recorded += by_state[std::size_t(s)];
  // Records beyond what went to dispatch directly are the items'.
  const std::int64_t direct = std::max<std::int64_t>(0, planned - digest - count(DeliveryState::suppressed));
  return std::max<std::int64_t>(0, digest - std::max<std::int64_t>(0, recorded - direct));
}

StateCounts EventStatus::totals() const {
  StateCounts t;
  t.summed = true;
  for (const auto& [key, g] : groups) {
    t.planned += g.planned;
    t.digest += g.held();
    for (std::size_t s = 0; s < t.by_state.size(); ++s) t.by_state[s] += g.by_state[s];
    for (const auto& [reason, n] : g.suppressed_by_reason) t.suppressed_by_reason[reason] += n;
  }
  return t;
}

bool EventStatus::settled() const {
  if (!fanned_out) return false;
  for (const auto& [key, g] : groups)
    if (g.terminal() + g.held() < g.planned) return false;
  return true;
}

bool EventStatus::at_rest() const {
  if (!fanned_out) return false;
  for (const auto& [key, g] : groups)
    if (g.terminal() + g.held() + g.count(DeliveryState::deferred) < g.planned) return false;
  return true;
}

namespace {

boost::json::object counts_json(const StateCounts& c) {
  boost::json::object o{{"planned", c.planned}, {"waiting", c.waiting()}};
  for (int s = 1; s < delivery_state_count; ++s) {  // 0 is `planned`, counted above
    const auto state = DeliveryState(s);
    o[to_string(state)] = state == DeliveryState::digest ? c.held() : c.count(state);
  }
  boost::json::object reasons;
  for (const auto& [reason, n] : c.suppressed_by_reason) reasons[reason] = n;
  o["suppressed_by_reason"] = std::move(reasons);
  return o;
}

}  // namespace

boost::json::object EventStatus::to_json() const {
  boost::json::array group_list;
  for (const auto& [key, g] : groups) {
    auto o = counts_json(g);
    o["tier"] = key.first;
    o["channel"] = key.second;
    group_list.push_back(std::move(o));
  }
  return {{"event_id", event_id},          {"event_type", event_type},
          {"fanned_out", fanned_out},      {"fanouts", fanouts},
          {"settled", settled()},           {"at_rest", at_rest()},
          {"totals", counts_json(totals())}, {"groups", std::move(group_list)}};
}

EventStatusBuilder::EventStatusBuilder(std::string event_id) { status_.event_id = std::move(event_id); }

void EventStatusBuilder::apply(const FanoutSummary& summary) {
  // A re-delivered summary (same event fanned out again) replaces the counts.
  status_.fanned_out = true;
  ++status_.fanouts;
  status_.event_type = summary.event_type;
  for (const auto& c : summary.counts) {
    auto& g = status_.groups[{c.tier, c.channel}];
    g.planned = c.total();
    g.digest = c.digest;
  }
}

void EventStatusBuilder::apply(const StatusRecord& r, std::optional<DeliveryState> previous) {
  if (status_.event_type.empty()) status_.event_type = r.event_type;
  auto& g = status_.groups[{r.tier, r.channel}];
  // Reasons are counted when a delivery is first suppressed; suppressed is
  // final, so a later record for it does not arise in practice.
  if (previous) --g.by_state[std::size_t(*previous)];
  ++g.by_state[std::size_t(r.state)];
  if (r.state == DeliveryState::suppressed) ++g.suppressed_by_reason[r.reason.empty() ? "unknown" : r.reason];
}

}  // namespace sunbeam
