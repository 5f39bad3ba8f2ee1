// A record on the `dlq` topic, as dispatch writes it when it gives up on a
// delivery (DispatchRole::fail): the whole delivery, so a replay can re-queue
// exactly what failed without the subscriber directory.
#pragma once

#include "engine/core/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace sunbeam {

struct DeadLetter {
  std::string delivery_id;
  std::string event_id;
  int attempt = 0;              // the attempt that failed
  std::string connector;
  std::string last_error;
  std::int64_t failed_at_ms = 0;
  std::string delivery_json;    // the delivery as dispatch held it (engine/core/delivery.h)
};

// {"delivery": {...}, "connector", "attempts", "last_error", "first_attempt_at", "failed_at"}.
Result<DeadLetter> parse_dead_letter(std::string_view json);

}  // namespace sunbeam
