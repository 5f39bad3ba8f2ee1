// A subscriber's local time: quiet hours and the day that daily caps count
// in, in the subscriber's own time zone (else the configured default). Time
// zones come from the system's tz database (/usr/share/zoneinfo) through
// Howard Hinnant's date library (Debian's libhowardhinnant-date-dev), since
// g++ 12's <chrono> has no time zones yet.
//
// Thread safety: pure functions; the tz database is loaded once, thread-safely.
#pragma once

#include "config/config.h"
#include "engine/core/clock.h"
#include "engine/core/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace sunbeam {

// When the quiet window that contains `now` ends, or nullopt when `now` is
// outside it (or there is no window). Windows may wrap midnight (21:30-08:00);
// an empty window (start == end) is never quiet. An unknown zone is an error.
Result<std::optional<SystemTime>> quiet_until(SystemTime now, std::string_view time_zone,
                                              std::optional<QuietHours> window);

// The local date at `now` in `time_zone`, as YYYY-MM-DD.
Result<std::string> local_day(SystemTime now, std::string_view time_zone);

}  // namespace sunbeam
