#include "engine/core/time_format.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

TEST_CASE("RFC 3339 with offsets") {
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339_ms("1970-01-01T08:00:00+08:00") == 0);
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00.250Z") == 250);
  CHECK(parse_rfc3339_ms("2026-11-25T08:45:00+08:00") == parse_rfc3339_ms("2026-11-25T00:45:00Z"));
  CHECK(parse_rfc3339_ms("2026-11-24T19:45:00-05:00") == parse_rfc3339_ms("2026-11-25T00:45:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-25T08:45:00"));      // no offset
  CHECK_FALSE(parse_rfc3339_ms("2026-02-30T08:45:00Z"));     // no such day
  CHECK_FALSE(parse_rfc3339_ms("2026-11-25T24:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-25T08:45:00+0800"));
  CHECK_FALSE(parse_rfc3339_ms("2026-11-25T08:45:00Zjunk"));
  CHECK(format_rfc3339_utc(*parse_rfc3339_ms("2026-11-25T08:45:00.125+08:00")) == "2026-11-25T00:45:00.125Z");
}
