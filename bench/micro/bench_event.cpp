// Event parsing: parse_event (what fanout does with each record of the
// `events` topic) and ingest's check of a published body, against the floor
// of boost::json::parse of the same text alone.
#include "bench/micro/fixtures.h"
#include "engine/core/event.h"

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

namespace sunbeam::bench {
namespace {

namespace json = boost::json;

void count(benchmark::State& state, const std::string& text) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * std::int64_t(text.size()));
}

// parse_event: json::parse, then validation and copies into an Event.
void ParseEvent(benchmark::State& state, const std::string& text) {
  if (auto check = parse_event(text, config()); !check) return state.SkipWithError(check.error().message.c_str());
  for (auto _ : state) {
    auto event = parse_event(text, config());
    benchmark::DoNotOptimize(event);
  }
  count(state, text);
}

// An allotment naming 1,000 accounts with their lots, shares and amount is
// about 73 KB of compact JSON: over the 64 KiB an event may be, so
// parse_event refuses it (too_large). Measured as parse_event's own work
// past its size check: json::parse, then parse_event_json.
void ParseEventOverLimit(benchmark::State& state, const std::string& text) {
  if (auto refused = parse_event(text, config()); refused || refused.error().code != "too_large")
    return state.SkipWithError("expected parse_event to refuse the text as too_large");
  state.SetLabel(std::to_string(text.size()) + " bytes, over the 64 KiB limit");
  for (auto _ : state) {
    auto event = parse_event_json(json::parse(text), config());
    benchmark::DoNotOptimize(event);
  }
  count(state, text);
}

// What ingest does with one published body before producing it: split it,
// validate the event, and serialise it canonically for the duplicate check's
// hash (the SHA-256 itself and Kafka left out).
void IngestCheck(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    auto split = split_event_body(text);
    const auto& item = split.items.front();
    if (item.error) return state.SkipWithError(item.error->message.c_str());
    auto event = parse_event_json(*item.value, config());
    if (!event) return state.SkipWithError(event.error().message.c_str());
    auto canonical = canonical_json(json::value(to_json(*event)));
    benchmark::DoNotOptimize(canonical);
  }
  count(state, text);
}

// Baseline: the JSON parse alone.
void JsonParse(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    auto v = json::parse(text);
    benchmark::DoNotOptimize(v);
  }
  count(state, text);
}

const std::string ipo = ipo_event_json();
const std::string risk = risk_alert_json();
// 800 named accounts (about 59 KB) is near the most one event can carry.
const std::string allotment_800 = allotment_json(800);
const std::string allotment_1000 = allotment_json(1000);

BENCHMARK_CAPTURE(ParseEvent, ipo_subscription, ipo);
BENCHMARK_CAPTURE(ParseEvent, risk_alert, risk);
BENCHMARK_CAPTURE(ParseEvent, allotment_800_accounts, allotment_800);
BENCHMARK_CAPTURE(ParseEventOverLimit, allotment_1000_accounts, allotment_1000);
BENCHMARK_CAPTURE(IngestCheck, ipo_subscription, ipo);
BENCHMARK_CAPTURE(IngestCheck, risk_alert, risk);
BENCHMARK_CAPTURE(IngestCheck, allotment_800_accounts, allotment_800);
BENCHMARK_CAPTURE(JsonParse, ipo_subscription, ipo);
BENCHMARK_CAPTURE(JsonParse, risk_alert, risk);
BENCHMARK_CAPTURE(JsonParse, allotment_800_accounts, allotment_800);
BENCHMARK_CAPTURE(JsonParse, allotment_1000_accounts, allotment_1000);

}  // namespace
}  // namespace sunbeam::bench
