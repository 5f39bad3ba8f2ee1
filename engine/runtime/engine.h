// The engine: the roles this process runs, wired to Kafka (a real cluster,
// or the embedded mock) and to each other. `main` only parses the command
// line and hands a Config and a RoleSet to Engine::start.
//
// Start order: Kafka (topics) -> directory -> templates and connectors ->
// status view -> ingest -> fanout, dispatch -> HTTP. stop() reverses it:
// intake first, then the roles drain, then connectors and Kafka clients.
#pragma once

#include "config/config.h"
#include "engine/core/clock.h"
#include "engine/core/result.h"
#include "engine/core/role_set.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sunbeam {

class Ingest;
class StatusView;

struct EngineOptions {
  RoleSet roles = RoleSet::all();
  std::optional<std::string> listen;  // overrides api.listen (the demo uses port 0)
  const Clock* clock = nullptr;       // default: the system clock
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> start(const Config& config, EngineOptions options);
  ~Engine();
  void stop();

  Ingest* ingest();            // null unless ingest or api runs
  StatusView* status();        // null unless api runs
  std::uint16_t http_port() const;

  struct Parts;

 private:
  explicit Engine(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace sunbeam
