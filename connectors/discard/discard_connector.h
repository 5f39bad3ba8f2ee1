// The `discard` connector: accepts every message and keeps nothing. It is the
// null sink of a rehearsal or a benchmark: the whole engine runs (fan-out,
// render, caps, records) without a network or a file, so what it measures is
// sunbeam itself (bench/README.md, "render-only").
//
// Thread safety: send() from any thread; it holds no state.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "engine/core/result.h"

#include <memory>

namespace sunbeam {

class DiscardConnector final : public Connector {
 public:
  static Result<std::unique_ptr<Connector>> create(const ConnectorConfig& config);

  const std::string& name() const override { return name_; }
  std::string_view kind() const override { return "discard"; }
  void send(OutboundMessage msg, SendCompletion done) override;

 private:
  explicit DiscardConnector(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace sunbeam
