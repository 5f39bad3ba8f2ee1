// Records on the `status` topic (SPEC §7): one per planned delivery and per
// attempt and outcome, plus one fan-out summary per event. The status index,
// `sunbeam status` and the demo's table are all built from these records.
#pragma once

#include "engine/core/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

enum class DeliveryState : std::uint8_t {
  planned,      // fanout produced it for dispatch
  digest,       // held for the pre-market digest
  deferred,     // waiting out quiet hours
  sent,         // the connector accepted it
  delivered,    // a receipt said it arrived
  undelivered,  // a receipt said it did not
  failed,       // gave up after retries (also on `dlq`)
  suppressed,   // refused: opt-out, entitlement, cap, no address (see reason)
  cancelled,    // an operator withdrew the event
  expired,      // too late to be useful
};
inline constexpr int delivery_state_count = 10;

std::string_view to_string(DeliveryState s);
std::optional<DeliveryState> parse_delivery_state(std::string_view s);
// Terminal states end a delivery; `planned`, `digest` and `deferred` do not.
bool is_terminal(DeliveryState s);

struct StatusRecord {
  std::string delivery_id;
  std::string event_id;
  std::string event_type;
  std::string account;
  std::string channel;
  std::string connector;
  std::string tier;
  int attempt = 0;
  DeliveryState state = DeliveryState::planned;
  std::string reason;
  std::string gateway_message_id;
  int parts = 0;             // SMS parts sent (the gateway bills each)
  double cost_per_part = 0;  // the connector's configured price of one part; 0: not configured
  std::int64_t time_ms = 0;  // Unix milliseconds
};

// Emitted by fanout once per event, in the same transaction as its
// deliveries: how many deliveries it planned per tier and channel. Planned and
// digest-held deliveries are counted here rather than recorded one by one (a
// million-subscriber fan-out would otherwise double its Kafka traffic);
// suppressed ones also get a record each, with the reason, for the audit.
struct FanoutCount {
  std::string tier;
  std::string channel;
  std::int64_t planned = 0;     // sent to dispatch
  std::int64_t digest = 0;      // held for the digest
  std::int64_t suppressed = 0;  // refused (each also has its own record)
  std::int64_t total() const { return planned + digest + suppressed; }
};

struct FanoutSummary {
  std::string event_id;
  std::string event_type;
  std::vector<FanoutCount> counts;
  std::int64_t time_ms = 0;
  std::int64_t total() const;
};

// Emitted by the digest role once per run (docs/api.md, "Digests"): what it
// sent for one trading day, or why it did not.
struct DigestRun {
  std::string date;     // YYYY-MM-DD, the trading day in schedule.timezone
  std::string trigger;  // schedule | now | catch_up
  std::string state;    // sent | expired | skipped
  std::int64_t accounts = 0;
  std::int64_t messages = 0;  // digest deliveries produced (one per account and channel)
  std::int64_t items = 0;     // items folded into them
  std::int64_t expired = 0;   // items that ended `expired` (past the cut-off)
  std::int64_t time_ms = 0;
};

std::string serialize(const StatusRecord& r);
std::string serialize(const FanoutSummary& s);
std::string serialize(const DigestRun& run);

// A record read back from the topic: exactly one of them.
struct StatusTopicRecord {
  std::optional<StatusRecord> delivery;
  std::optional<FanoutSummary> fanout;
  std::optional<DigestRun> digest_run;
};
Result<StatusTopicRecord> parse_status_record(std::string_view json);

}  // namespace sunbeam
