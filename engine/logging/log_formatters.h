// How a log line is written: spdlog formatters, one per LogFormat, each able
// to mask personal data in the message first.
//
// Why formatters and not a sink wrapper: a formatter is the one place where a
// spdlog message becomes bytes, whatever the sink (the colour sink on stderr,
// a file, a test's stream); the sink keeps its own locking and colours, and
// the JSON line needs a formatter anyway. Masking there means no sink can see
// the unmasked text.
//
// Thread safety: spdlog clones a formatter per sink and calls it under the
// sink's lock; these keep no state between calls.
#pragma once

#include "config/config.h"

#include <spdlog/formatter.h>

#include <memory>

namespace sunbeam::logging {

// text: spdlog's default pattern, exactly as before
//   [2026-11-25 08:45:00.123] [sunbeam] [info] message
// json: one object per line, fields in this order, the time local with its offset
//   {"time":"2026-11-25T08:45:00.123+08:00","level":"info","logger":"sunbeam","msg":"message"}
// Levels are named as --log-level names them: trace, debug, info, warn, error, critical.
// With `mask_personal_data`, the message goes through mask_text first
// (phones and e-mail addresses; engine/core/masking.h).
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool mask_personal_data);

// Wraps another formatter and hands it the message with personal data masked.
class MaskingFormatter final : public spdlog::formatter {
 public:
  explicit MaskingFormatter(std::unique_ptr<spdlog::formatter> inner);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

// JSON lines for a log collector, escaped by Boost.JSON.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  explicit JsonLineFormatter(bool mask_personal_data) : mask_(mask_personal_data) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  bool mask_;
};

}  // namespace sunbeam::logging
