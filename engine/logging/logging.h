// The process's logs: where they go (stderr, so stdout carries only what a
// command prints), in which format, at which level, masked or not.
//
//   auto done = sunbeam::logging::configure_logging({"info", LogFormat::json, config.privacy.mask_personal_data});
//
// Call from main, before any thread logs. Secrets (API tokens, gateway
// passwords, receipt secrets) are never passed to a logger in the first
// place; masking is for the personal data that does reach messages
// (addresses in gateway errors and SMTP replies).
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <string>

namespace sunbeam::logging {

struct LogOptions {
  std::string level = "info";          // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::text;  // json: one object per line (log_formatters.h)
  bool mask_personal_data = true;      // config `privacy.mask_personal_data`
};

// Installs the default spdlog logger "sunbeam" on stderr (colours on a
// terminal for text; none for JSON) and sets the level. An unknown level is
// an error naming the accepted ones, and nothing is changed. Calling it again
// replaces the logger (e.g. once the config file has been read).
Result<void> configure_logging(const LogOptions& options);

}  // namespace sunbeam::logging
