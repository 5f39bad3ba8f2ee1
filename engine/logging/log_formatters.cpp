#include "engine/logging/log_formatters.h"

#include "engine/core/masking.h"

#include <boost/json.hpp>
#include <spdlog/pattern_formatter.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace sunbeam::logging {

namespace {

std::string_view view(spdlog::string_view_t s) { return {s.data(), s.size()}; }

// The --log-level vocabulary; spdlog's own names say "warning".
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// RFC 3339 in local time with milliseconds and the offset, "2026-11-25T08:45:00.123+08:00":
// what an operator reads next to the text logs, and what a collector parses.
std::string local_rfc3339_ms(spdlog::log_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
  std::time_t secs = std::time_t(ms_total / 1000);
  int ms = int(ms_total % 1000);
  if (ms < 0) {  // before 1970: floor, not truncate
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  localtime_r(&secs, &tm);
  const int offset_min = int(tm.tm_gmtoff / 60);  // within a day
  const char sign = offset_min < 0 ? '-' : '+';
  const int abs_min = offset_min < 0 ? -offset_min : offset_min;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, sign, abs_min / 60, abs_min % 60);
  return buf;
}

}  // namespace

MaskingFormatter::MaskingFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

void MaskingFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string masked = mask_text(view(msg.payload));
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(masked.data(), masked.size());
  inner_->format(copy, dest);
  // The colour sink reads where the level's colour goes from the message it passed in.
  msg.color_range_start = copy.color_range_start;
  msg.color_range_end = copy.color_range_end;
}

std::unique_ptr<spdlog::formatter> MaskingFormatter::clone() const {
  return std::make_unique<MaskingFormatter>(inner_->clone());
}

void JsonLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  boost::json::object line;
  line["time"] = local_rfc3339_ms(msg.time);
  line["level"] = level_name(msg.level);
  line["logger"] = view(msg.logger_name);
  line["msg"] = mask_ ? boost::json::string(mask_text(view(msg.payload))) : boost::json::string(view(msg.payload));
  const std::string text = boost::json::serialize(line);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLineFormatter::clone() const { return std::make_unique<JsonLineFormatter>(mask_); }

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool mask_personal_data) {
  if (format == LogFormat::json) return std::make_unique<JsonLineFormatter>(mask_personal_data);
  auto text = std::make_unique<spdlog::pattern_formatter>();  // spdlog's default pattern, as the CLI always had
  if (!mask_personal_data) return text;
  return std::make_unique<MaskingFormatter>(std::move(text));
}

}  // namespace sunbeam::logging
