// The HTTP API of SPEC §5 that this build serves, one handler per endpoint:
//   POST /v1/events           ingest (publisher)
//   GET  /v1/events/{id}      the event's status counts (viewer)
//   GET  /healthz, /readyz    liveness; readiness (Kafka reached, state loaded)
// Auth, failures, replays, receipts, metrics and the console arrive with the
// operations issue; their routes are added here the same way.
#pragma once

#include "engine/core/role_set.h"

namespace sunbeam {

class HttpServer;
class Ingest;
class StatusView;

struct ApiContext {
  Ingest* ingest = nullptr;      // null: POST /v1/events is not served
  StatusView* status = nullptr;  // null: GET /v1/events/{id} is not served
  RoleSet roles;
};

void install_api_routes(HttpServer& server, ApiContext context);

}  // namespace sunbeam
