// What the status index answers besides one event's status: the recent
// events, the failed deliveries an operator selects (GET /v1/failures, and the
// same selector picks what a replay re-queues), the counts the metrics export,
// and the digest runs.
#pragma once

#include "engine/core/status_record.h"
#include "engine/status/event_status.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sunbeam {

class SqlStatement;

// Which failed deliveries: every field optional, the set ones all apply.
struct FailureSelector {
  std::optional<std::string> event_id;
  std::optional<std::int64_t> since_ms;  // failed at or after (Unix ms)
  std::optional<std::int64_t> until_ms;  // failed at or before (Unix ms)
  std::optional<std::string> connector;
  std::optional<std::string> reason;     // a substring of the last error (case-sensitive)
  // Replays only: an empty selector replays everything, which must be said.
  bool all = false;

  // No field set (`all` aside).
  bool empty() const;
  // {"event","since","until","connector","reason","all"}, since/until in Unix ms.
  boost::json::object to_json() const;
  static FailureSelector from_json(const boost::json::object& o);
};

// One failed delivery, as GET /v1/failures lists it.
struct FailureRow {
  std::string delivery_id;
  std::string event_id;
  std::string event_type;
  std::string account;
  std::string channel;
  std::string tier;
  std::string connector;
  int attempt = 0;
  std::string reason;
  std::int64_t time_ms = 0;  // when it failed
};

struct FailurePage {
  std::int64_t total = 0;          // every match
  std::vector<FailureRow> rows;    // the newest `limit` of them
};

// One event in GET /v1/events: its status and when it happened.
struct EventSummary {
  EventStatus status;
  std::int64_t time_ms = 0;              // the fan-out summary's time, else its first record's
  bool cancelled = false;                // an operator's cancel order was seen (mark_cancelled)
  std::int64_t cancelled_at_ms = 0;
};

// Deliveries by latest state, tier, channel and connector (the metrics'
// gauge). `planned` counts deliveries fanned out with no outcome recorded yet
// (from the fan-out summaries), with connector "".
struct DeliveryCount {
  DeliveryState state = DeliveryState::planned;
  std::string tier;
  std::string channel;
  std::string connector;
  std::int64_t count = 0;
};

// The SQL a FailureSelector stands for, over the index's `deliveries` table
// under the alias `d`, with its parameters; shared by the failures query and
// the replay's selection so both match exactly the same rows. Use as
// "FROM deliveries d" + from_hint + " WHERE " + sql.
struct FailureCondition {
  // Which partial index serves the selector best (an event's failures are
  // few, a connector's more, a time window's any): said, not left to the
  // planner, which has no statistics on a fresh index and guessed wrong.
  std::string from_hint;
  std::string sql;  // "d.state = 6 AND ..." (no leading AND)
  std::vector<std::variant<std::int64_t, std::string>> params;
  // Binds the parameters from `first`; returns the next free index.
  int bind(SqlStatement& statement, int first) const;
};
FailureCondition failure_condition(const FailureSelector& selector);

}  // namespace sunbeam
