#include "engine/status/dead_letter.h"

#include "engine/core/json_fields.h"
#include "engine/core/time_format.h"

#include <boost/json/serialize.hpp>

namespace sunbeam {

using namespace json_fields;

Result<DeadLetter> parse_dead_letter(std::string_view json) {
  auto parsed = parse_object(json, "malformed_dead_letter", "a dead letter");
  if (!parsed) return parsed.error();
  const auto* delivery = object_or_null(*parsed, "delivery");
  if (!delivery) return make_error("malformed_dead_letter", "a dead letter without its delivery");
  DeadLetter out;
  out.delivery_id = string_or(*delivery, "delivery_id");
  out.event_id = string_or(*delivery, "event_id");
  if (out.delivery_id.empty() || out.event_id.empty())
    return make_error("malformed_dead_letter", "a dead letter's delivery has no delivery_id or event_id");
  out.attempt = int(int_or(*delivery, "attempt", int_or(*parsed, "attempts")));
  out.connector = string_or(*parsed, "connector");
  out.last_error = string_or(*parsed, "last_error");
  out.failed_at_ms = parse_rfc3339_ms(string_or(*parsed, "failed_at")).value_or(0);
  out.delivery_json = boost::json::serialize(*delivery);
  return out;
}

}  // namespace sunbeam
