#include "engine/logging/logging.h"

#include "engine/logging/log_formatters.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sunbeam::logging {

Result<void> configure_logging(const LogOptions& options) {
  // spdlog reads any unknown name as "off", which would silence the logs without a word.
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off")
    return make_error("invalid_log_level",
                      "log level \"" + options.level + "\" is not one of trace, debug, info, warn, error, critical, off",
                      "log_level");
  spdlog::sink_ptr sink;
  if (options.format == LogFormat::json) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("sunbeam", std::move(sink));
  logger->set_formatter(make_log_formatter(options.format, options.mask_personal_data));
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(level);
  return {};
}

}  // namespace sunbeam::logging
