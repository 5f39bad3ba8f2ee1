// A delivery: one message to one account on one channel, as fanout plans it
// and dispatch sends it. It carries a snapshot of the recipient so dispatch,
// the dead-letter queue and replays need no subscriber directory.
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sunbeam {

struct Recipient {
  std::string name;
  std::string address;   // E.164 mobile or e-mail address, per channel
  std::string locale;    // zh-CN, en, ...
  std::string timezone;  // IANA name; empty: the config default
  std::optional<QuietHours> quiet_hours;
};

struct Delivery {
  std::string delivery_id;
  std::string event_id;
  std::string event_type;
  std::string account;
  std::string tier;
  Channel channel = Channel::sms;
  Priority priority = Priority::normal;
  std::string symbol;
  std::string occurred_at;
  std::optional<std::string> expires_at;
  std::optional<std::int64_t> expires_at_ms;
  Recipient recipient;
  boost::json::object data;  // the event's data with per-account data merged over it
  int attempt = 1;
  // Attempts made before a replay re-queued it: the retry policy's
  // max_attempts counts from here, so a replayed delivery gets its own retries.
  int attempts_before = 0;
  // When ingest accepted the event (its Kafka timestamp, Unix ms; 0: unknown):
  // what the publish-to-send latency is measured from.
  std::int64_t published_at_ms = 0;
};

// A stable id for (event, account, channel): the first 128 bits of
// SHA-256(event_id NUL account NUL channel), as 32 lowercase hex digits.
// Every role derives the same id, so a re-planned delivery is recognisable.
std::string make_delivery_id(std::string_view event_id, std::string_view account, std::string_view channel);
inline std::string make_delivery_id(std::string_view event_id, std::string_view account, Channel channel) {
  return make_delivery_id(event_id, account, to_string(channel));
}

boost::json::object to_json(const Delivery& d);
// The variables a template sees (docs/templates.md, "Variables"): the
// delivery's data (per-account data merged), `event` and `subscriber`. The
// digest sizes its SMS with them.
boost::json::object template_vars(const Delivery& d);
// The delivery's own: `event` and `subscriber`. Dispatch renders with these
// over the data (RenderRequest::shared), which a fan-out's deliveries share.
boost::json::object template_own_vars(const Delivery& d);
std::string serialize(const Delivery& d);
Result<Delivery> parse_delivery(std::string_view json);

}  // namespace sunbeam
