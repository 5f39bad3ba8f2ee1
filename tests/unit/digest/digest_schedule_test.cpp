// The digest's schedule: local digest time and cut-off in the configured
// zone, the local date, and the checks that make a bad schedule an error.
#include "engine/digest/digest_schedule.h"
#include "engine/core/time_format.h"

#include "tests/support/doctest_result.h"
#include "tests/support/test_time.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

using test::at;

Day day(const char* text) {
  auto d = parse_day(text);
  REQUIRE(d);
  return *d;
}

DigestSchedule shanghai(ScheduleConfig config = {}) {
  TradingCalendar calendar;
  calendar.days = {day("2026-11-11"), day("2026-11-12")};
  auto s = DigestSchedule::create(config, calendar);
  REQUIRE(s);
  return *s;
}

}  // namespace

TEST_CASE("dates are YYYY-MM-DD calendar days") {
  CHECK(format_day(day("2026-11-11")) == "2026-11-11");
  CHECK(format_day(day("2028-02-29")) == "2028-02-29");
  CHECK_FALSE(parse_day("2026-02-29"));
  CHECK_FALSE(parse_day("2026-11-1"));
  CHECK_FALSE(parse_day("2026/11/11"));
  CHECK_FALSE(parse_day(""));
}

TEST_CASE("the digest time and the cut-off are local times in schedule.timezone") {
  const auto s = shanghai();  // 08:45 and 09:25, Asia/Shanghai (UTC+8)
  CHECK(s.send_time(day("2026-11-11")) == at("2026-11-11T00:45:00Z"));
  CHECK(s.cutoff(day("2026-11-11")) == at("2026-11-11T01:25:00Z"));
  // 23:30 UTC is already the next morning in Shanghai.
  CHECK(s.local_day(at("2026-11-10T23:30:00Z")) == day("2026-11-11"));
  CHECK(s.local_day(at("2026-11-10T15:59:59Z")) == day("2026-11-10"));
  CHECK(s.local_minute(*parse_rfc3339_ms("2026-11-10T07:10:00Z")) == "2026-11-10 15:10");
  CHECK(s.is_trading_day(day("2026-11-11")));
  CHECK_FALSE(s.is_trading_day(day("2026-11-13")));
  CHECK(s.last_listed_day() == day("2026-11-12"));

  ScheduleConfig york;
  york.timezone = "America/New_York";
  york.digest_time = "07:30";
  york.cutoff = "09:00";
  const auto ny = shanghai(york);
  CHECK(ny.send_time(day("2026-07-01")) == at("2026-07-01T11:30:00Z"));  // EDT, UTC-4
  CHECK(ny.send_time(day("2026-12-01")) == at("2026-12-01T12:30:00Z"));  // EST, UTC-5
}

TEST_CASE("today in a zone, as an operator's request without a date means it") {
  auto today = local_date("Asia/Shanghai", at("2026-11-10T16:00:00Z"));
  REQUIRE(today);
  CHECK(*today == "2026-11-11");
  CHECK_FALSE(local_date("Mars/Olympus", at("2026-11-10T16:00:00Z")));
}

TEST_CASE("a schedule that could never send is an error that names the key") {
  ScheduleConfig late;
  late.cutoff = "08:00";  // before the 08:45 digest
  auto r = DigestSchedule::create(late, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().field == "schedule.cutoff");
  CHECK(r.error().message ==
        "schedule.cutoff 08:00 is not after schedule.digest_time 08:45: every digest would expire unsent");

  ScheduleConfig zone;
  zone.timezone = "Asia/Atlantis";
  auto z = DigestSchedule::create(zone, {});
  REQUIRE_FALSE(z);
  CHECK(z.error().field == "schedule.timezone");

  ScheduleConfig time;
  time.digest_time = "8:45";
  auto t = DigestSchedule::create(time, {});
  REQUIRE_FALSE(t);
  CHECK(t.error().field == "schedule.digest_time");
}
