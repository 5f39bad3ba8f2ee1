// The `outbox` connector (SPEC §6): appends one JSON line per message to
// `<dir>/<connector name>.ndjson`. The quickstart's default, and handy for
// audits: a newcomer reads the file and sees who got which words.
//
// Thread safety: send() from any thread; lines never interleave.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "engine/core/result.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>

namespace sunbeam {

class OutboxConnector final : public Connector {
 public:
  static Result<std::unique_ptr<Connector>> create(const ConnectorConfig& config);
  ~OutboxConnector() override;

  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "outbox"; }
  void send(OutboundMessage msg, SendCompletion done) override;
  void stop() override;

  const std::filesystem::path& path() const { return path_; }

 private:
  OutboxConnector(std::string name, std::filesystem::path path, std::FILE* file);
  std::string name_;
  std::filesystem::path path_;
  std::mutex mutex_;
  std::FILE* file_;
};

// Where an outbox connector configured as `config` writes.
std::filesystem::path outbox_path(const ConnectorConfig& config);

}  // namespace sunbeam
