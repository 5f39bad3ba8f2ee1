#include "engine/core/status_record.h"

#include "engine/core/json_fields.h"

#include <boost/json/serialize.hpp>

#include <array>

namespace sunbeam {

namespace json = boost::json;
using namespace json_fields;

namespace {
constexpr std::array<std::string_view, delivery_state_count> state_names{
    "planned", "digest", "deferred", "sent", "delivered", "undelivered", "failed", "suppressed", "cancelled", "expired"};
}

std::string_view to_string(DeliveryState s) { return state_names[std::size_t(s)]; }

std::optional<DeliveryState> parse_delivery_state(std::string_view s) {
  for (std::size_t i = 0; i < state_names.size(); ++i)
    if (state_names[i] == s) return DeliveryState(i);
  return std::nullopt;
}

bool is_terminal(DeliveryState s) {
  return s != DeliveryState::planned && s != DeliveryState::digest && s != DeliveryState::deferred;
}

std::string serialize(const StatusRecord& r) {
  json::object o{{"record", "delivery"},
                 {"delivery_id", r.delivery_id},
                 {"event_id", r.event_id},
                 {"event_type", r.event_type},
                 {"account", r.account},
                 {"channel", r.channel},
                 {"tier", r.tier},
                 {"attempt", r.attempt},
                 {"state", to_string(r.state)},
                 {"time", r.time_ms}};
  if (!r.connector.empty()) o["connector"] = r.connector;
  if (!r.reason.empty()) o["reason"] = r.reason;
  if (!r.gateway_message_id.empty()) o["gateway_message_id"] = r.gateway_message_id;
  if (r.parts > 0) o["parts"] = r.parts;
  if (r.cost_per_part > 0) o["cost_per_part"] = r.cost_per_part;
  return json::serialize(o);
}

std::int64_t FanoutSummary::total() const {
  std::int64_t n = 0;
  for (const auto& c : counts) n += c.total();
  return n;
}

std::string serialize(const FanoutSummary& s) {
  json::array counts;
  for (const auto& c : s.counts)
    counts.push_back(json::object{{"tier", c.tier}, {"channel", c.channel}, {"planned", c.planned},
                                  {"digest", c.digest}, {"suppressed", c.suppressed}});
  return json::serialize(json::object{{"record", "fanout"},
                                      {"event_id", s.event_id},
                                      {"event_type", s.event_type},
                                      {"counts", std::move(counts)},
                                      {"time", s.time_ms}});
}

std::string serialize(const DigestRun& run) {
  return json::serialize(json::object{{"record", "digest_run"},
                                      {"date", run.date},
                                      {"trigger", run.trigger},
                                      {"state", run.state},
                                      {"accounts", run.accounts},
                                      {"messages", run.messages},
                                      {"items", run.items},
                                      {"expired", run.expired},
                                      {"time", run.time_ms}});
}

Result<StatusTopicRecord> parse_status_record(std::string_view text) {
  auto parsed = parse_object(text, "malformed_status", "a status record");
  if (!parsed) return parsed.error();
  const auto& o = *parsed;
  StatusTopicRecord out;
  const auto kind = string_or(o, "record");
  if (kind == "fanout") {
    FanoutSummary summary{string_or(o, "event_id"), string_or(o, "event_type"), {}, int_or(o, "time")};
    if (const auto* counts = o.if_contains("counts"); counts && counts->is_array()) {
      for (const auto& c : counts->get_array()) {
        if (!c.is_object()) continue;
        const auto& co = c.get_object();
        summary.counts.push_back(FanoutCount{string_or(co, "tier"), string_or(co, "channel"), int_or(co, "planned"),
                                             int_or(co, "digest"), int_or(co, "suppressed")});
      }
    }
    out.fanout = std::move(summary);
    return out;
  }
  if (kind == "digest_run") {
    out.digest_run = DigestRun{string_or(o, "date"),     string_or(o, "trigger"), string_or(o, "state"),
                               int_or(o, "accounts"),    int_or(o, "messages"),   int_or(o, "items"),
                               int_or(o, "expired"),     int_or(o, "time")};
    return out;
  }
  if (kind != "delivery") return make_error("malformed_status", "unknown status record kind \"" + kind + "\"");
  const auto state = parse_delivery_state(string_or(o, "state"));
  if (!state) return make_error("malformed_status", "a status record has an unknown state");
  StatusRecord r;
  r.delivery_id = string_or(o, "delivery_id");
  r.event_id = string_or(o, "event_id");
  r.event_type = string_or(o, "event_type");
  r.account = string_or(o, "account");
  r.channel = string_or(o, "channel");
  r.connector = string_or(o, "connector");
  r.tier = string_or(o, "tier");
  r.attempt = int(int_or(o, "attempt"));
  r.state = *state;
  r.reason = string_or(o, "reason");
  r.gateway_message_id = string_or(o, "gateway_message_id");
  r.parts = int(int_or(o, "parts"));
  if (const auto* c = o.if_contains("cost_per_part"); c && c->is_number()) r.cost_per_part = c->to_number<double>();
  r.time_ms = int_or(o, "time");
  out.delivery = std::move(r);
  return out;
}

}  // namespace sunbeam
