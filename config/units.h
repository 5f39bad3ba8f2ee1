// Value types for the units people write in configuration: durations
// ("250ms", "30s", "5m", "1h", "2d") and rates ("100/s", "6000/min").
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sunbeam {

using Duration = std::chrono::milliseconds;

// Sends per second. `unlimited()` when a connector configures no rate.
class Rate {
 public:
  constexpr Rate() = default;
  constexpr explicit Rate(double per_second) : per_second_(per_second) {}
  constexpr double per_second() const { return per_second_; }
  constexpr bool unlimited() const { return per_second_ <= 0; }
  constexpr bool operator==(const Rate&) const = default;

 private:
  double per_second_ = 0;  // 0: unlimited
};

// nullopt when malformed; a bare number of a duration is rejected (units are required).
std::optional<Duration> parse_duration(std::string_view text);
std::optional<Rate> parse_rate(std::string_view text);

}  // namespace sunbeam
