#include "config/calendar.h"
#include "config/config.h"
#include "config/units.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace sunbeam;
using namespace std::chrono_literals;

TEST_CASE("durations need a unit") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("2d") == 48h);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK_FALSE(parse_duration("30"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("5 weeks"));
  CHECK_FALSE(parse_duration("-1s"));
}

TEST_CASE("rates per second or per minute") {
  CHECK(parse_rate("100/s")->per_second() == 100);
  CHECK(parse_rate("6000/min")->per_second() == 100);
  CHECK(parse_rate("50")->per_second() == 50);
  CHECK(Rate().unlimited());
  CHECK_FALSE(parse_rate("fast"));
  CHECK_FALSE(parse_rate("10/week"));
}

TEST_CASE("quiet hours may wrap midnight") {
  CHECK(parse_quiet_hours("21:30-08:00") == QuietHours{1290, 480});
  CHECK(parse_quiet_hours("12:00-13:30") == QuietHours{720, 810});
  CHECK_FALSE(parse_quiet_hours("21:30"));
  CHECK_FALSE(parse_quiet_hours("25:00-08:00"));
  CHECK_FALSE(parse_quiet_hours("08:00-08:00"));
  CHECK_FALSE(parse_quiet_hours("8:00-9:00"));
}

TEST_CASE("the trading calendar reports bad lines and keeps the good ones") {
  const auto file = std::filesystem::temp_directory_path() / "sunbeam-calendar-test.txt";
  std::ofstream(file) << "# trading days\n2026-11-25\n\n2026-11-26\n2026-02-30\nnot a date\n2026-11-25\n";
  auto load = load_trading_calendar(file);
  CHECK(load.calendar.days.size() == 2);
  REQUIRE(load.problems.size() == 3);
  CHECK(load.problems[0].line == 5);
  CHECK(load.problems[1].line == 6);
  CHECK(load.problems[2].line == 7);
  CHECK(load.problems[2].what.find("twice") != std::string::npos);
  std::filesystem::remove(file);
}
