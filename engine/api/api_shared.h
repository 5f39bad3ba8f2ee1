// What the API's route files share (internal to engine/api): the context,
// the token check, the receipts' secrets, and answers that wait.
#pragma once

#include "engine/api/answer_later.h"
#include "engine/api/api_json.h"
#include "engine/api/api_routes.h"
#include "engine/api/auth.h"
#include "engine/metrics/registry.h"
#include "engine/net/http_server.h"
#include "engine/status/status_query.h"

#include <map>

namespace sunbeam {

using ReceiptSecrets = std::map<std::string, Result<std::string>, std::less<>>;

struct ApiRoutes::Shared {
  ApiContext ctx;
  ApiAuth auth;
  ReceiptSecrets receipt_secrets;
  AnswerLater later;
  metrics::CounterFamily* requests = nullptr;  // {route, status}
  metrics::CounterFamily* ingested = nullptr;  // {result}

  Shared(ApiContext c, const ApiConfig& api) : ctx(std::move(c)), auth(api) {
    if (!ctx.metrics) return;
    requests = &ctx.metrics->counter("sunbeam_http_requests_total", "API requests by route and answer.", {"route", "status"});
    ingested = &ctx.metrics->counter("sunbeam_ingest_events_total", "Events posted, by result.", {"result"});
  }
};

using ApiHandler = std::function<void(HttpRequest, const Caller&, HttpResponder)>;

// Registers `handler` behind `need`: 401/403 before it runs.
void add_route(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared, std::string method,
               std::string pattern, Permission need, ApiHandler handler);

// The route groups, one file each.
void install_operations_routes(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared);
void install_status_routes(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared);
void install_replay_routes(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared);

// The selector of GET /v1/failures and POST /v1/replays from its text fields
// (event, since, until, connector, reason); since/until as parse_time_bound.
Result<FailureSelector> parse_selector(const std::map<std::string, std::string>& fields, std::int64_t now_ms);

}  // namespace sunbeam
