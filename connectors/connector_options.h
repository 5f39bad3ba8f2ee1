// Reading a connector's kind-specific options (ConnectorConfig::options) when
// it is built. Values written as `${NAME}` are expanded from the environment
// here and only here, so secrets live in the process environment and in the
// connector, never in a Config, a log line or a record.
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <initializer_list>
#include <string>
#include <string_view>

namespace sunbeam {

class ConnectorOptions {
 public:
  explicit ConnectorOptions(const ConnectorConfig& config) : config_(config) {}

  // The option's value with `${ENV}` expanded; `fallback` when absent. An
  // unset or empty environment variable is an error naming it (not the value).
  Result<std::string> get(std::string_view key, std::string fallback = {}) const;
  // As get(), but an absent option is an error saying the kind needs it.
  Result<std::string> required(std::string_view key) const;
  Result<int> integer(std::string_view key, int fallback, int min, int max) const;
  // An error unless every option is one of `known` (the kind's options); the
  // message names the stray key and lists the known ones.
  Result<void> only(std::initializer_list<std::string_view> known) const;
  // A "connector_option" error about this connector, for a kind's own checks.
  Error error(const std::string& what) const;

 private:
  const ConnectorConfig& config_;
};

}  // namespace sunbeam
