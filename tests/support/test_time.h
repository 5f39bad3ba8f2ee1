// Instants written as RFC 3339 in tests: at("2026-11-25T08:45:00+08:00").
#pragma once

#include "engine/core/clock.h"
#include "engine/core/time_format.h"

#include <doctest/doctest.h>

namespace sunbeam::test {

inline SystemTime at(const char* rfc3339) {
  auto t = parse_rfc3339_ms(rfc3339);
  REQUIRE(t);
  return SystemTime(std::chrono::milliseconds(*t));
}

}  // namespace sunbeam::test
