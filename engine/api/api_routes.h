// The HTTP API of SPEC §5 that this build serves, one handler per endpoint:
//   POST /v1/events           ingest (publisher)
//   GET  /v1/events/{id}      the event's status counts (viewer)
//   POST /v1/receipts/{connector}  delivery receipts from a gateway (also GET:
//                             Kannel's smsbox calls its dlr-url with GET)
//   GET  /healthz, /readyz    liveness; readiness (Kafka reached, state loaded)
// Auth, failures, replays, metrics and the console arrive with the
// operations issue; their routes are added here the same way.
#pragma once

#include "engine/core/role_set.h"

#include <string>

namespace sunbeam {

class Connectors;
struct Config;
class HttpServer;
class Ingest;
class StatusView;
namespace kafka {
class Producer;
struct Topics;
}  // namespace kafka

// What the receipts endpoint needs: the connectors (each parses its gateway's
// receipts), their configuration (each may require a `receipt_secret`) and
// where to put what it accepted.
struct ReceiptIntake {
  const Connectors* connectors = nullptr;
  const Config* config = nullptr;
  kafka::Producer* producer = nullptr;
  std::string topic;
};

struct ApiContext {
  Ingest* ingest = nullptr;      // null: POST /v1/events is not served
  StatusView* status = nullptr;  // null: GET /v1/events/{id} is not served
  ReceiptIntake receipts;        // connectors null: receipts are not served
  RoleSet roles;
};

void install_api_routes(HttpServer& server, ApiContext context);

}  // namespace sunbeam
