#include "engine/status/status_query.h"

#include "engine/core/json_fields.h"
#include "engine/storage/sqlite_db.h"

namespace sunbeam {

bool FailureSelector::empty() const { return !event_id && !since_ms && !until_ms && !connector && !reason; }

boost::json::object FailureSelector::to_json() const {
  boost::json::object o;
  if (event_id) o["event"] = *event_id;
  if (since_ms) o["since"] = *since_ms;
  if (until_ms) o["until"] = *until_ms;
  if (connector) o["connector"] = *connector;
  if (reason) o["reason"] = *reason;
  if (all) o["all"] = true;
  return o;
}

FailureSelector FailureSelector::from_json(const boost::json::object& o) {
  FailureSelector s;
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto* v = o.if_contains(key);
    if (v && v->is_string()) return std::string(v->get_string());
    return std::nullopt;
  };
  const auto number = [&](const char* key) -> std::optional<std::int64_t> {
    const auto* v = o.if_contains(key);
    if (v && v->is_int64()) return v->get_int64();
    return std::nullopt;
  };
  s.event_id = text("event");
  s.since_ms = number("since");
  s.until_ms = number("until");
  s.connector = text("connector");
  s.reason = text("reason");
  const auto* all = o.if_contains("all");
  s.all = all && all->is_bool() && all->get_bool();
  return s;
}

FailureCondition failure_condition(const FailureSelector& selector) {
  // `d.state = 6` is written out (not bound) so SQLite can use the partial
  // indexes on failed deliveries (StatusIndex's schema).
  static_assert(int(DeliveryState::failed) == 6);
  FailureCondition c{selector.event_id    ? " INDEXED BY deliveries_failed_by_event"
                     : selector.connector ? " INDEXED BY deliveries_failed_by_connector"
                                          : " INDEXED BY deliveries_failed_by_time",
                     "d.state = 6",
                     {}};
  if (selector.event_id) {
    c.sql += " AND d.event_id = ?";
    c.params.emplace_back(*selector.event_id);
  }
  if (selector.since_ms) {
    c.sql += " AND d.time_ms >= ?";
    c.params.emplace_back(*selector.since_ms);
  }
  if (selector.until_ms) {
    c.sql += " AND d.time_ms <= ?";
    c.params.emplace_back(*selector.until_ms);
  }
  if (selector.connector) {
    c.sql += " AND d.connector = ?";
    c.params.emplace_back(*selector.connector);
  }
  if (selector.reason) {
    c.sql += " AND instr(d.reason, ?) > 0";
    c.params.emplace_back(*selector.reason);
  }
  return c;
}

int FailureCondition::bind(SqlStatement& statement, int first) const {
  for (const auto& p : params) {
    std::visit([&](const auto& value) { statement.bind(first, value); }, p);
    ++first;
  }
  return first;
}

}  // namespace sunbeam
