// A market event as the research desk publishes it (SPEC §2), parsed and
// validated against the configuration. Validation lives here, in one place,
// so the HTTP API, `sunbeam publish`, `sunbeam check` and fanout agree.
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

inline constexpr std::size_t max_event_bytes = 64 * 1024;

// An account the event names, with data merged over the event's `data`.
struct NamedAccount {
  std::string account;
  boost::json::object data;
};

struct EventAudience {
  std::vector<std::string> tiers;     // narrows the audience to these tiers
  std::vector<NamedAccount> accounts; // explicit recipients
  bool names_accounts() const { return !accounts.empty(); }
};

struct Event {
  std::string id;
  std::string type;
  std::string symbol;                  // empty when the type has none
  std::string occurred_at;             // as published (RFC 3339)
  std::int64_t occurred_at_ms = 0;     // Unix milliseconds
  Priority priority = Priority::normal;  // resolved: the event's, else the type's
  std::optional<std::string> expires_at;
  std::optional<std::int64_t> expires_at_ms;
  EventAudience audience;
  boost::json::object data;
};

// Parses one event from JSON text and validates it against `config`.
// Errors name the field (`field`) and say what is wrong; codes:
// malformed_json, not_an_object, too_large, missing_field, invalid_field,
// unknown_type, unknown_tier.
Result<Event> parse_event(std::string_view json, const Config& config);
Result<Event> parse_event_json(const boost::json::value& json, const Config& config);

// The event as JSON (what goes on the `events` topic).
boost::json::object to_json(const Event& event);

// A canonical serialisation (object keys sorted, recursively) of a JSON value,
// so that the same event published with its keys in another order is still
// recognised as the same body.
std::string canonical_json(const boost::json::value& v);

// Splits a request body into events: one JSON object, a JSON array of objects,
// or NDJSON (one object per line). Each element is either the value or the
// error for that element (a malformed NDJSON line does not hide the others).
struct BodyItem {
  std::optional<boost::json::value> value;
  std::optional<Error> error;
  std::size_t bytes = 0;  // size of this element's text (for the 64 KiB limit)
};
struct SplitBody {
  bool batch = false;     // an array or NDJSON, as opposed to one object
  std::vector<BodyItem> items;
};
SplitBody split_event_body(std::string_view body);

}  // namespace sunbeam
