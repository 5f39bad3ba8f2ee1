// Audience resolution: AudiencePlanner::plan over generated directories of
// 100,000 and 1,000,000 subscribers, for a broadcast (ipo_subscription to
// all), a targeted alert (risk_alert to the holders of 600519.SH, every tenth
// subscriber) and a tier-narrowed stock_pick. One item is one planned or
// suppressed delivery, so items/s reads as deliveries planned a second.
//
// Baselines in the same binary: walking the same subscribers and reading what
// the planner reads of each (tier, channels, addresses) without planning, the
// memory floor (same deliveries counted, none built); and planning followed by serialize() of each delivery, what
// the fanout role does per delivery before handing it to Kafka.
#include "bench/micro/fixtures.h"
#include "engine/core/delivery.h"
#include "engine/core/event.h"
#include "engine/fanout/audience_planner.h"

#include <benchmark/benchmark.h>

namespace sunbeam::bench {
namespace {

Event parsed(const std::string& text) {
  auto event = parse_event(text, config());
  if (!event) {
    std::fprintf(stderr, "bench_micro: %s\n", event.error().message.c_str());
    std::exit(1);
  }
  return std::move(*event);
}

void report(benchmark::State& state, std::int64_t per_iteration) {
  state.SetItemsProcessed(state.iterations() * per_iteration);
  state.counters["deliveries"] = double(per_iteration);
}

// Plans the event's audience each iteration and hands every delivery to `use`.
template <class Use>
void plan_each(benchmark::State& state, const std::string& text, Use use) {
  const Directory& directory = bench::directory(state.range(0));
  const Event event = parsed(text);
  const AudiencePlanner planner(config(), directory);
  std::int64_t deliveries = 0;
  for (auto _ : state) {
    deliveries = 0;
    planner.plan(event, [&](PlannedDelivery&& p) {
      use(p);
      ++deliveries;
    });
  }
  report(state, deliveries);
}

void PlanAudience(benchmark::State& state, const std::string& text) {
  plan_each(state, text, [](const PlannedDelivery& p) { benchmark::DoNotOptimize(p.delivery.delivery_id.data()); });
}

void PlanAudienceAndSerialize(benchmark::State& state, const std::string& text) {
  plan_each(state, text, [](const PlannedDelivery& p) {
    auto record = serialize(p.delivery);
    benchmark::DoNotOptimize(record.data());
  });
}

// Baseline: the same candidates walked, reading what the planner reads of
// each (tier, chosen channels, address) and counting the deliveries it would
// emit (planned or suppressed), without building them: the memory floor.
void WalkCandidates(benchmark::State& state, const std::string& text) {
  const Directory& directory = bench::directory(state.range(0));
  const Event event = parsed(text);
  const EventTypeConfig& type = *config().event_type(event.type);
  const bool targeted = type.audience == AudienceKind::holders;
  std::vector<bool> tier_allowed(config().tiers.size(), event.audience.tiers.empty());
  for (const auto& t : event.audience.tiers) tier_allowed[*config().tier_index(t)] = true;
  std::vector<const std::vector<Channel>*> entitled;
  for (const auto& tier : config().tiers) {
    const auto it = type.channels.find(tier);
    entitled.push_back(it == type.channels.end() ? nullptr : &it->second);
  }
  std::int64_t deliveries = 0;
  for (auto _ : state) {
    deliveries = 0;
    std::size_t addressed = 0;
    const auto walk = [&](std::span<const SubscriberIndex> who) {
      for (SubscriberIndex i : who) {
        const Subscriber& s = directory.at(i);
        if (!tier_allowed[s.tier]) continue;
        const auto* channels = entitled[s.tier];
        if (!channels) {
          if (targeted) deliveries += s.channels.contains(Channel::sms) + s.channels.contains(Channel::email);
          continue;
        }
        for (Channel c : *channels) {
          if (!s.channels.contains(c)) continue;
          ++deliveries;
          addressed += (c == Channel::sms ? s.mobile : s.email).size();
        }
      }
    };
    if (targeted) {
      walk(directory.holders(event.symbol));
    } else {
      for (std::size_t t = 0; t < config().tiers.size(); ++t)
        if (tier_allowed[t]) walk(directory.in_tier(t));
    }
    benchmark::DoNotOptimize(addressed);
  }
  report(state, deliveries);
}

// One piece of planning on its own: the delivery id, SHA-256 of (event,
// account, channel), computed once for every delivery planned.
void MakeDeliveryId(benchmark::State& state) {
  const std::string event_id = "ipo-2026-11-25-688999";
  std::uint32_t account = 0;
  for (auto _ : state) {
    auto id = make_delivery_id(event_id, "C" + std::to_string(100000 + (account++ % 900000)), Channel::sms);
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(MakeDeliveryId);

const std::string ipo = ipo_event_json();
const std::string risk = risk_alert_json();
const std::string pick = stock_pick_json();

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("subscribers")->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(PlanAudience, all_ipo_subscription, ipo)->Apply(sizes);
BENCHMARK_CAPTURE(PlanAudience, holders_risk_alert, risk)->Apply(sizes);
BENCHMARK_CAPTURE(PlanAudience, tiers_stock_pick, pick)->Apply(sizes);
BENCHMARK_CAPTURE(PlanAudienceAndSerialize, all_ipo_subscription, ipo)->Apply(sizes);
BENCHMARK_CAPTURE(WalkCandidates, all_ipo_subscription, ipo)->Apply(sizes);
BENCHMARK_CAPTURE(WalkCandidates, holders_risk_alert, risk)->Apply(sizes);
BENCHMARK_CAPTURE(WalkCandidates, tiers_stock_pick, pick)->Apply(sizes);

}  // namespace
}  // namespace sunbeam::bench
