// The HTTP API of SPEC §5 (docs/api.md is its contract), one handler per
// endpoint, each behind the permission its role table names (auth.h):
//   POST /v1/events                 ingest (publisher)
//   GET  /v1/events, /v1/events/{id}   recent events; one event's counts (viewer)
//   POST /v1/events/{id}/cancel     withdraw an event (operator)
//   GET  /v1/connectors             state, breaker, figures (viewer)
//   POST /v1/connectors/{name}/suspend|resume  (operator)
//   GET  /v1/failures               failed deliveries (operator)
//   POST /v1/replays, GET /v1/replays[/{id}]  re-queue failed deliveries (operator)
//   POST /v1/digests, GET /v1/digests[/{date}]  send a digest now; the runs
//   POST|GET /v1/receipts/{connector}  delivery receipts (the connector's receipt_secret)
//   GET  /metrics, /healthz, /readyz   (no token; bind api.listen internally)
//   GET  /, /console/{file}         the operator console's page (no data in it)
// A route whose part of the engine does not run in this process (no status
// index without the api role, ...) is not installed: 404, not a wrong answer.
#pragma once

#include "engine/core/result.h"
#include "engine/core/role_set.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sunbeam {

class Connectors;
struct Config;
class DispatchRole;
class HttpServer;
class Ingest;
class OrdersInForce;
class ReplayService;
class StatusView;
namespace kafka {
class Producer;
struct Topics;
}  // namespace kafka
namespace metrics {
class Registry;
}  // namespace metrics

struct ApiContext {
  const Config* config = nullptr;
  RoleSet roles;
  Ingest* ingest = nullptr;                 // POST /v1/events
  StatusView* status = nullptr;             // events, failures, digests' runs
  ReplayService* replays = nullptr;         // replays
  kafka::Producer* producer = nullptr;      // operators' orders, receipts
  const kafka::Topics* topics = nullptr;
  const Connectors* connectors = nullptr;   // receipts; the connectors' list
  const DispatchRole* dispatch = nullptr;   // this process's send figures, if it dispatches
  const OrdersInForce* orders = nullptr;    // suspended connectors, cancelled events
  metrics::Registry* metrics = nullptr;     // GET /metrics; requests and ingest outcomes are counted there
  // Why the process is not ready (nullopt: ready), for /readyz.
  std::function<std::optional<std::string>()> not_ready;
};

// Installs the routes; the returned object owns what they share (the
// receipts' secrets, answers waiting on the engine) and must outlive the
// server's stop(). Refuses an open API (no tokens) on a non-loopback address.
class ApiRoutes {
 public:
  static Result<std::unique_ptr<ApiRoutes>> install(HttpServer& server, ApiContext context);
  ~ApiRoutes();
  // Answers what still waits (before the status view and Kafka stop).
  void stop();

  struct Shared;

 private:
  explicit ApiRoutes(std::shared_ptr<Shared> shared);
  std::shared_ptr<Shared> shared_;
};

}  // namespace sunbeam
