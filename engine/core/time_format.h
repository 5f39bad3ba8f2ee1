// RFC 3339 timestamps, as events carry them and records print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sunbeam {

// "2026-11-25T08:45:00+08:00" -> Unix milliseconds; nullopt when not RFC 3339
// with an explicit offset (Z or ±hh:mm).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

// Unix milliseconds -> "2026-11-25T00:45:00.000Z".
std::string format_rfc3339_utc(std::int64_t unix_ms);

}  // namespace sunbeam
