// When the pre-market digest goes out (config `schedule`, docs/digest.md):
// at `digest_time` local time in `timezone`, on the trading days the calendar
// file lists; a digest not sent by `cutoff` that day is too late to be useful.
// Time zones come from the system's tz database through Howard Hinnant's date
// library (Debian's libhowardhinnant-date-dev), as in dispatch: g++ 12's
// <chrono> has no time zones yet.
//
// Immutable after create(); safe to share between threads.
#pragma once

#include "config/calendar.h"
#include "config/config.h"
#include "engine/core/clock.h"
#include "engine/core/result.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace sunbeam {

// A calendar day, as the trading calendar holds them.
using Day = std::chrono::sys_days;

// "2026-11-25" <-> Day; nullopt when not a real YYYY-MM-DD date.
std::optional<Day> parse_day(std::string_view text);
std::string format_day(Day day);

// The date at `t` in `time_zone` as YYYY-MM-DD: what "today" means for a
// digest (an operator's request without a date names today this way).
Result<std::string> local_date(std::string_view time_zone, SystemTime t);

class DigestSchedule {
 public:
  // Errors: an unknown time zone, a digest_time or cutoff that is not HH:MM,
  // a cutoff not after the digest time (every digest would expire unsent).
  static Result<DigestSchedule> create(const ScheduleConfig& schedule, TradingCalendar calendar);

  Day local_day(SystemTime t) const;  // the date in schedule.timezone at `t`
  SystemTime send_time(Day day) const;
  SystemTime cutoff(Day day) const;
  bool is_trading_day(Day day) const { return calendar_.is_trading_day(day); }
  // The calendar's last day: after it every day counts as a holiday.
  std::optional<Day> last_listed_day() const;
  // Unix ms -> "2026-11-25 15:10", local time in schedule.timezone.
  std::string local_minute(std::int64_t unix_ms) const;

 private:
  DigestSchedule(const date::time_zone* zone, int send_minute, int cutoff_minute, TradingCalendar calendar)
      : zone_(zone), send_minute_(send_minute), cutoff_minute_(cutoff_minute), calendar_(std::move(calendar)) {}
  // `minute` minutes after local midnight of `day`; a local time a DST change
  // skips or repeats resolves to the earlier instant.
  SystemTime local_instant(Day day, int minute) const;

  const date::time_zone* zone_;
  int send_minute_;
  int cutoff_minute_;
  TradingCalendar calendar_;
};

}  // namespace sunbeam
