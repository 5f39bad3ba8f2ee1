// Quiet hours and the caps' day, in the subscriber's own time zone.
#include "engine/dispatch/local_time.h"
#include "engine/core/time_format.h"

#include "tests/support/doctest_result.h"
#include "tests/support/test_time.h"

#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

using test::at;

QuietHours window(const char* text) {
  auto q = parse_quiet_hours(text);
  REQUIRE(q);
  return *q;
}

}  // namespace

TEST_CASE("a window across midnight holds until its end the next morning, in the subscriber's zone") {
  const auto night = window("21:30-08:00");
  auto r = quiet_until(at("2026-11-25T22:15:00+08:00"), "Asia/Shanghai", night);
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(unix_ms(**r) == unix_ms(at("2026-11-26T08:00:00+08:00")));

  r = quiet_until(at("2026-11-26T03:00:00+08:00"), "Asia/Shanghai", night);  // after midnight: ends the same day
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(unix_ms(**r) == unix_ms(at("2026-11-26T08:00:00+08:00")));

  r = quiet_until(at("2026-11-26T08:00:00+08:00"), "Asia/Shanghai", night);  // the end itself is not quiet
  REQUIRE(r);
  CHECK_FALSE(*r);
  r = quiet_until(at("2026-11-25T14:00:00+08:00"), "Asia/Shanghai", night);
  REQUIRE(r);
  CHECK_FALSE(*r);
}

TEST_CASE("the same instant is quiet in London and not in Shanghai") {
  const auto night = window("22:00-07:00");
  const auto t = at("2026-11-25T23:30:00+00:00");  // 07:30 the next day in Shanghai
  auto london = quiet_until(t, "Europe/London", night);
  REQUIRE(london);
  REQUIRE(*london);
  CHECK(unix_ms(**london) == unix_ms(at("2026-11-26T07:00:00+00:00")));
  auto shanghai = quiet_until(t, "Asia/Shanghai", night);
  REQUIRE(shanghai);
  CHECK_FALSE(*shanghai);
}

TEST_CASE("a daytime window, no window, an empty window") {
  const auto lunch = window("12:00-13:30");
  auto r = quiet_until(at("2026-11-25T12:45:00+08:00"), "Asia/Shanghai", lunch);
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(unix_ms(**r) == unix_ms(at("2026-11-25T13:30:00+08:00")));
  r = quiet_until(at("2026-11-25T12:45:00+08:00"), "Asia/Shanghai", std::nullopt);
  REQUIRE(r);
  CHECK_FALSE(*r);
  r = quiet_until(at("2026-11-25T12:45:00+08:00"), "Asia/Shanghai", QuietHours{600, 600});
  REQUIRE(r);
  CHECK_FALSE(*r);
}

TEST_CASE("a window ending at a time the clocks skip resolves to a real instant") {
  // Europe/London springs forward at 01:00 UTC on 2026-03-29: 01:00-02:00 local does not exist.
  auto r = quiet_until(at("2026-03-29T00:30:00+00:00"), "Europe/London", window("23:00-01:30"));
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r > at("2026-03-29T00:30:00+00:00"));
  CHECK(**r <= at("2026-03-29T01:30:00+00:00"));
}

TEST_CASE("an unknown zone is an error that names it") {
  auto r = quiet_until(at("2026-11-25T12:00:00+08:00"), "Mars/Olympus", window("21:00-08:00"));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("Mars/Olympus") != std::string::npos);
}

TEST_CASE("the caps' day is the subscriber's local date") {
  const auto t = at("2026-11-25T17:30:00+00:00");
  auto shanghai = local_day(t, "Asia/Shanghai");
  auto new_york = local_day(t, "America/New_York");
  REQUIRE(shanghai);
  REQUIRE(new_york);
  CHECK(*shanghai == "2026-11-26");
  CHECK(*new_york == "2026-11-25");
}
