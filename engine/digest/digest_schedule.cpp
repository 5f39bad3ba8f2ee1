#include "engine/digest/digest_schedule.h"

#include "config/calendar.h"

#include <date/tz.h>

#include <cstdio>

namespace sunbeam {
namespace {

// "08:45" -> 525; nullopt unless HH:MM with HH < 24 and MM < 60. The config
// loader checked these already; a Config built in code did not.
std::optional<int> parse_minute(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

}  // namespace

std::optional<Day> parse_day(std::string_view s) { return parse_date(s); }

std::string format_day(Day day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

namespace {

Result<const date::time_zone*> zone_named(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    return make_error("config", "schedule.timezone: unknown time zone \"" + std::string(name) + "\": " + e.what(),
                      "schedule.timezone");
  }
}

Day day_in(const date::time_zone* zone, SystemTime t) {
  const auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  return Day{std::chrono::floor<std::chrono::days>(local.time_since_epoch())};
}

}  // namespace

Result<std::string> local_date(std::string_view time_zone, SystemTime t) {
  auto zone = zone_named(time_zone);
  if (!zone) return zone.error();
  return Result<std::string>(boost::system::in_place_value, format_day(day_in(*zone, t)));
}

Result<DigestSchedule> DigestSchedule::create(const ScheduleConfig& schedule, TradingCalendar calendar) {
  auto zone = zone_named(schedule.timezone);
  if (!zone) return zone.error();
  const auto send = parse_minute(schedule.digest_time);
  if (!send)
    return make_error("config", "schedule.digest_time: \"" + schedule.digest_time + "\" is not HH:MM",
                      "schedule.digest_time");
  const auto cutoff = parse_minute(schedule.cutoff);
  if (!cutoff)
    return make_error("config", "schedule.cutoff: \"" + schedule.cutoff + "\" is not HH:MM", "schedule.cutoff");
  if (*cutoff <= *send)
    return make_error("config",
                      "schedule.cutoff " + schedule.cutoff + " is not after schedule.digest_time " +
                          schedule.digest_time + ": every digest would expire unsent",
                      "schedule.cutoff");
  return DigestSchedule(*zone, *send, *cutoff, std::move(calendar));
}

Day DigestSchedule::local_day(SystemTime t) const { return day_in(zone_, t); }

SystemTime DigestSchedule::local_instant(Day day, int minute) const {
  const date::local_seconds local{std::chrono::duration_cast<std::chrono::seconds>(day.time_since_epoch()) +
                                  std::chrono::minutes(minute)};
  return std::chrono::time_point_cast<SystemTime::duration>(zone_->to_sys(local, date::choose::earliest));
}

SystemTime DigestSchedule::send_time(Day day) const { return local_instant(day, send_minute_); }
SystemTime DigestSchedule::cutoff(Day day) const { return local_instant(day, cutoff_minute_); }

std::optional<Day> DigestSchedule::last_listed_day() const {
  if (calendar_.days.empty()) return std::nullopt;
  return *calendar_.days.rbegin();
}

std::string DigestSchedule::local_minute(std::int64_t unix_ms) const {
  const auto local = zone_->to_local(std::chrono::time_point_cast<std::chrono::seconds>(
      SystemTime(std::chrono::milliseconds(unix_ms))));
  const auto day = std::chrono::floor<std::chrono::days>(local.time_since_epoch());
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local.time_since_epoch() - day).count();
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", int(minute / 60), int(minute % 60));
  return format_day(Day{day}) + " " + buf;
}

}  // namespace sunbeam
