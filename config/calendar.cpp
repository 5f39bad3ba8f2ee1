#include "config/calendar.h"

#include <fstream>
#include <optional>
#include <string>

namespace sunbeam {
namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

CalendarLoad load_trading_calendar(const std::filesystem::path& file) {
  CalendarLoad out;
  std::ifstream in(file);
  if (!in) {
    out.problems.push_back({file.string(), 0, "cannot read the trading calendar"});
    return out;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const auto text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto day = parse_date(text);
    if (!day) {
      out.problems.push_back({file.string(), n, "\"" + std::string(text) + "\" is not a date (write YYYY-MM-DD)"});
      continue;
    }
    if (!out.calendar.days.insert(*day).second)
      out.problems.push_back({file.string(), n, std::string(text) + " is listed twice"});
  }
  if (out.calendar.days.empty() && out.problems.empty())
    out.problems.push_back({file.string(), 0, "the trading calendar lists no days"});
  return out;
}

std::optional<std::chrono::sys_days> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i)
    for (std::size_t k = starts[i]; k < starts[i] + lengths[i]; ++k) {
      if (s[k] < '0' || s[k] > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (s[k] - '0');
    }
  const std::chrono::year_month_day ymd{std::chrono::year{parts[0]}, std::chrono::month{unsigned(parts[1])},
                                        std::chrono::day{unsigned(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

}  // namespace sunbeam
