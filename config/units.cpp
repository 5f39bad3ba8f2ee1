#include "config/units.h"

#include <charconv>
#include <string>

namespace sunbeam {
namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A non-negative decimal number at the start of `s`; the rest is returned in `unit`.
std::optional<double> leading_number(std::string_view s, std::string_view& unit) {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, value);
  if (ec != std::errc() || ptr != s.data() + i) return std::nullopt;
  unit = trim(s.substr(i));
  return value;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  std::string_view unit;
  const auto n = leading_number(trim(text), unit);
  if (!n) return std::nullopt;
  double ms_per_unit = 0;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m" || unit == "min") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else if (unit == "d") ms_per_unit = 86'400'000;
  else return std::nullopt;
  return Duration(static_cast<Duration::rep>(*n * ms_per_unit));
}

std::optional<Rate> parse_rate(std::string_view text) {
  std::string_view rest;
  const auto n = leading_number(trim(text), rest);
  if (!n) return std::nullopt;
  if (rest.empty()) return Rate(*n);  // a bare number is per second
  if (rest.front() != '/') return std::nullopt;
  rest = trim(rest.substr(1));
  if (rest == "s" || rest == "sec") return Rate(*n);
  if (rest == "m" || rest == "min") return Rate(*n / 60.0);
  if (rest == "h") return Rate(*n / 3600.0);
  return std::nullopt;
}

}  // namespace sunbeam
