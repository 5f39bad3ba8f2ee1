// The exchange's trading calendar (SPEC §3): one YYYY-MM-DD a line, `#`
// comments and blank lines allowed. The digest sends only on these days.
#pragma once

#include "config/problem.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string_view>
#include <set>
#include <vector>

namespace sunbeam {

struct TradingCalendar {
  std::set<std::chrono::sys_days> days;
  bool is_trading_day(std::chrono::sys_days d) const { return days.contains(d); }
};

struct CalendarLoad {
  TradingCalendar calendar;
  std::vector<Problem> problems;  // a bad line is reported and skipped
};

CalendarLoad load_trading_calendar(const std::filesystem::path& file);

// "2026-11-25" -> that day; nullopt unless a real YYYY-MM-DD date.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

}  // namespace sunbeam
