#include "engine/cli/status_table.h"

#include "engine/cli/text_table.h"
#include "engine/core/json_fields.h"

#include <boost/json/value.hpp>

#include <string>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;

using json_fields::string_or;
std::int64_t num(const json::object& o, std::string_view key) { return json_fields::int_or(o, key); }

std::string reasons(const json::object& counts) {
  std::string out;
  if (const auto* r = counts.if_contains("suppressed_by_reason"); r && r->is_object())
    for (const auto& kv : r->get_object()) {
      if (!kv.value().is_int64() || kv.value().get_int64() == 0) continue;
      out += (out.empty() ? "" : ", ") + std::string(kv.key()) + " " + std::to_string(kv.value().get_int64());
    }
  return out;
}

}  // namespace

void print_event_status(std::ostream& out, const json::object& status) {
  out << "event " << string_or(status, "event_id") << " (" << string_or(status, "event_type") << ")";
  const auto* fanned = status.if_contains("fanned_out");
  if (fanned && fanned->is_bool() && !fanned->get_bool()) out << ": not fanned out yet";
  const auto* settled = status.if_contains("settled");
  if (settled && settled->is_bool() && settled->get_bool()) out << ": settled";
  out << "\n\n";
  TextTable t({"tier", "channel", "planned", "waiting", "sent", "delivered", "deferred", "digest", "suppressed", "failed",
           "expired", "suppressed by reason"});
  const auto row = [&](std::string tier, std::string channel, const json::object& c) {
    t.add({std::move(tier), std::move(channel), std::to_string(num(c, "planned")), std::to_string(num(c, "waiting")),
           std::to_string(num(c, "sent")), std::to_string(num(c, "delivered")), std::to_string(num(c, "deferred")),
           std::to_string(num(c, "digest")), std::to_string(num(c, "suppressed")), std::to_string(num(c, "failed")),
           std::to_string(num(c, "expired")), reasons(c)});
  };
  if (const auto* groups = status.if_contains("groups"); groups && groups->is_array())
    for (const auto& g : groups->get_array())
      if (g.is_object()) {
        const auto& go = g.get_object();
        row(string_or(go, "tier").empty() ? "-" : string_or(go, "tier"), string_or(go, "channel").empty() ? "-" : string_or(go, "channel"), go);
      }
  if (const auto* totals = status.if_contains("totals"); totals && totals->is_object()) row("all", "all", totals->get_object());
  t.print(out);
}

void print_demo_table(std::ostream& out, const std::vector<json::object>& statuses) {
  TextTable t({"event", "type", "tier", "channel", "sent", "suppressed", "digest", "failed"});
  for (const auto& s : statuses) {
    const auto* groups = s.if_contains("groups");
    if (!groups || !groups->is_array() || groups->get_array().empty()) {
      t.add({string_or(s, "event_id"), string_or(s, "event_type"), "-", "-", "0", "0", "0", "0"});
      continue;
    }
    for (const auto& g : groups->get_array()) {
      if (!g.is_object()) continue;
      const auto& go = g.get_object();
      const auto tier = string_or(go, "tier"), channel = string_or(go, "channel");
      t.add({string_or(s, "event_id"), string_or(s, "event_type"), tier.empty() ? "-" : tier, channel.empty() ? "-" : channel,
             std::to_string(num(go, "sent")), std::to_string(num(go, "suppressed")), std::to_string(num(go, "digest")),
             std::to_string(num(go, "failed"))});
    }
  }
  t.print(out);
}

}  // namespace sunbeam::cli
