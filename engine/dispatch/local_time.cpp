#include "engine/dispatch/local_time.h"

#include <date/tz.h>

#include <cstdio>

namespace sunbeam {
namespace {

Result<const date::time_zone*> zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    return make_error("time_zone", "unknown time zone \"" + std::string(name) + "\": " + e.what());
  }
}

}  // namespace

Result<std::optional<SystemTime>> quiet_until(SystemTime now, std::string_view time_zone,
                                              std::optional<QuietHours> window) {
  if (!window || window->start_minute == window->end_minute) return std::optional<SystemTime>();
  auto tz = zone(time_zone);
  if (!tz) return tz.error();
  using namespace std::chrono;
  const auto local = (*tz)->to_local(time_point_cast<seconds>(now));
  const auto midnight = date::floor<date::days>(local);
  const int minute = int(duration_cast<minutes>(local - midnight).count());
  const int start = window->start_minute, end = window->end_minute;
  const bool wraps = start > end;
  const bool inside = wraps ? (minute >= start || minute < end) : (minute >= start && minute < end);
  if (!inside) return std::optional<SystemTime>();
  // The window ends today at `end`, or tomorrow when it wrapped past midnight.
  auto end_local = midnight + minutes(end);
  if (wraps && minute >= start) end_local += date::days(1);
  // A local time skipped or repeated by a DST change resolves to the earlier instant.
  const auto end_sys = (*tz)->to_sys(end_local, date::choose::earliest);
  return std::optional<SystemTime>(time_point_cast<SystemTime::duration>(end_sys));
}

Result<std::string> local_day(SystemTime now, std::string_view time_zone) {
  auto tz = zone(time_zone);
  if (!tz) return tz.error();
  using namespace std::chrono;
  const date::year_month_day ymd{date::floor<date::days>((*tz)->to_local(time_point_cast<seconds>(now)))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return Result<std::string>(boost::system::in_place_value, buf);
}

}  // namespace sunbeam
