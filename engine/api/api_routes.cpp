#include "engine/api/api_routes.h"

#include "connectors/connector_options.h"
#include "connectors/registry.h"
#include "engine/api/api_shared.h"
#include "engine/api/console/console_assets.h"
#include "engine/core/clock.h"
#include "engine/ingest/ingest.h"
#include "engine/kafka/producer.h"
#include "engine/metrics/registry.h"
#include "engine/net/http_server.h"
#include "engine/status/status_view.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

namespace sunbeam {
namespace {

namespace json = boost::json;

// What the receipts endpoint needs: the connectors (each parses its gateway's
// receipts), their configuration (each may require a `receipt_secret`) and
// where to put what it accepted.
struct ReceiptIntake {
  const Connectors* connectors = nullptr;
  const Config* config = nullptr;
  kafka::Producer* producer = nullptr;
  std::string topic;
};

void post_events(Ingest& ingest, metrics::CounterFamily* counted, HttpRequest request, HttpResponder respond) {
  ingest.submit(request.body, [respond = std::move(respond), counted](IngestReply reply) {
    if (counted)
      for (const auto& result : reply.results)
        counted->with({std::string(to_string(result.outcome))}).inc();
    HttpResponse r;
    r.status = reply.http_status();
    r.body = reply.body();
    if (r.status == 429) r.headers.emplace_back("Retry-After", "1");
    respond(std::move(r));
  });
}

void get_event(const StatusView& status, HttpRequest request, HttpResponder respond) {
  const auto& id = request.path_params["id"];
  if (auto event = status.event(id)) return respond(json_response(200, event->to_json()));
  if (!status.caught_up())
    return respond(unavailable("loading", "the status index is still reading the status topic; try again shortly"));
  respond(error_response(404, "not_found", "no status records for event " + id + " (yet)", "id"));
}
// The gateway proves itself with the connector's `receipt_secret`, as a bearer
// token, or (Kannel, which cannot set headers) as `secret` in the dlr-url.
bool receipt_caller_allowed(const std::string& secret, const HttpRequest& request) {
  if (secret.empty()) return true;
  std::string offered;
  if (auto it = request.headers.find("authorization"); it != request.headers.end() && it->second.starts_with("Bearer "))
    offered = it->second.substr(7);
  else if (auto q = request.query_params.find("secret"); q != request.query_params.end())
    offered = q->second;
  return offered.size() == secret.size() && CRYPTO_memcmp(offered.data(), secret.data(), secret.size()) == 0;
}

// Each connector's receipt_secret, expanded from the environment once, when
// the routes are installed. A connector whose secret cannot be read (its
// variable unset) maps to an error, and its receipts are refused.

ReceiptSecrets read_receipt_secrets(const ReceiptIntake& intake) {
  ReceiptSecrets out;
  for (const Connector* c : intake.connectors->all()) {
    const ConnectorConfig* cc = intake.config->connector(c->name());
    auto secret = cc ? ConnectorOptions(*cc).get("receipt_secret") : Result<std::string>(boost::system::in_place_value, "");
    if (!secret) spdlog::error("api: receipts for {} will be refused: {}", c->name(), secret.error().message);
    out.emplace(c->name(), std::move(secret));
  }
  return out;
}

void post_receipts(const ReceiptIntake& intake, const ReceiptSecrets& secrets, HttpRequest request,
                   HttpResponder respond) {
  const std::string& name = request.path_params["connector"];
  const Connector* connector = intake.connectors->by_name(name);
  const auto secret = secrets.find(name);
  if (!connector || secret == secrets.end())
    return respond(error_response(404, "not_found", "no connector named " + name, "connector"));
  if (!secret->second)
    return respond(error_response(503, "misconfigured", "the connector's receipt_secret is not available"));
  if (!receipt_caller_allowed(*secret->second, request))
    return respond(error_response(401, "unauthorized", "receipts for " + name + " need the connector's receipt_secret"));
  ReceiptRequest rr{request.method, request.query_params, {}, std::move(request.body)};
  if (auto it = request.headers.find("content-type"); it != request.headers.end()) rr.content_type = it->second;
  auto receipts = connector->parse_receipts(rr);
  if (!receipts) return respond(error_response(400, receipts.error().code, receipts.error().message));
  if (receipts->empty()) return respond(json_response(202, json::object{{"accepted", 0}}));

  // Answer once Kafka has every receipt, so a gateway that got 202 may forget them.
  struct Pending {
    std::atomic<int> left;
    std::atomic<bool> failed{false};
    HttpResponder respond;
    int total;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = int(receipts->size());
  pending->total = int(receipts->size());
  pending->respond = std::move(respond);
  const auto received = now_ms();
  for (auto& receipt : *receipts) {
    ReceiptRecord record{name, std::move(receipt), received};
    const std::string key = record.receipt.reference.empty() ? record.receipt.gateway_message_id : record.receipt.reference;
    auto done = [pending](Result<void> r) {
      if (!r) pending->failed = true;
      if (--pending->left > 0) return;
      if (pending->failed) {
        return pending->respond(unavailable("unavailable", "receipts could not be stored; send them again"));
      }
      pending->respond(json_response(202, json::object{{"accepted", pending->total}}));
    };
    if (auto r = intake.producer->produce(intake.topic, key, serialize(record), done, kafka::QueueFull::fail); !r)
      done(r.error());
  }
}

HttpResponse auth_error(const Error& e) {
  auto r = error_response(e.code == "forbidden" ? 403 : 401, e.code, e.message);
  if (e.code != "forbidden") r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

void install_receipts(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared) {
  const ApiContext& ctx = shared->ctx;
  if (!ctx.connectors || !ctx.producer || !ctx.topics) return;
  ReceiptIntake intake{ctx.connectors, ctx.config, ctx.producer, ctx.topics->receipts};
  shared->receipt_secrets = read_receipt_secrets(intake);
  for (const char* method : {"POST", "GET"}) {
    // The gateway's own secret guards this route, not an API token.
    server.route(method, "/v1/receipts/{connector}", [shared, intake](HttpRequest req, HttpResponder respond) {
      post_receipts(intake, shared->receipt_secrets, std::move(req), std::move(respond));
    });
  }
}

void install_health(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared) {
  server.route("GET", "/healthz", [](HttpRequest, HttpResponder respond) {
    respond(json_response(200, json::object{{"status", "ok"}}));
  });
  server.route("GET", "/readyz", [shared](HttpRequest, HttpResponder respond) {
    // Ready once the engine started (Kafka reached, config and directory
    // loaded) and what it serves has caught up with Kafka.
    const auto why = shared->ctx.not_ready ? shared->ctx.not_ready() : std::nullopt;
    json::object body{{"ready", !why}, {"roles", shared->ctx.roles.to_string()}};
    if (why) body["why"] = *why;
    respond(json_response(why ? 503 : 200, body));
  });
  if (shared->ctx.metrics) {
    server.route("GET", "/metrics", [shared](HttpRequest, HttpResponder respond) {
      HttpResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = shared->ctx.metrics->render();
      respond(std::move(r));
    });
  }
}

// The operator console: a page with no data in it (it asks the API, with the
// operator's token), so it is served without one.
void install_console(HttpServer& server) {
  auto serve = [](const ConsoleAsset& asset, HttpResponder& respond) {
    HttpResponse r;
    r.content_type = std::string(asset.content_type);
    r.body = std::string(asset.body);
    r.headers = {{"Cache-Control", "no-cache"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"}};
    respond(std::move(r));
  };
  server.route("GET", "/", [serve](HttpRequest, HttpResponder respond) { serve(console_assets().front(), respond); });
  server.route("GET", "/console/{file}", [serve](HttpRequest req, HttpResponder respond) {
    for (const auto& asset : console_assets().subspan(1))
      if (asset.path == req.path_params["file"]) return serve(asset, respond);
    respond(error_response(404, "not_found", "no console file " + req.path_params["file"]));
  });
}

}  // namespace

void add_route(HttpServer& server, const std::shared_ptr<ApiRoutes::Shared>& shared, std::string method,
               std::string pattern, Permission need, ApiHandler handler) {
  server.route(std::move(method), pattern,
               [shared, need, pattern, handler = std::move(handler)](HttpRequest req, HttpResponder respond) {
                 if (shared->requests) {
                   respond = [respond = std::move(respond), requests = shared->requests, pattern](HttpResponse r) {
                     requests->with({pattern, std::to_string(r.status)}).inc();
                     respond(std::move(r));
                   };
                 }
                 auto caller = shared->auth.authorize(req.headers, need);
                 if (!caller) return respond(auth_error(caller.error()));
                 handler(std::move(req), *caller, std::move(respond));
               });
}

Result<std::unique_ptr<ApiRoutes>> ApiRoutes::install(HttpServer& server, ApiContext ctx) {
  const ApiConfig& api = ctx.config->api;
  if (api.tokens.empty() && !is_loopback_listen(api.listen))
    return make_error("api_open", "api.listen is " + api.listen +
                                      " but api.tokens is empty: an API without tokens may only listen on a "
                                      "loopback address (add tokens: docs/configuration.md)", "api.tokens");
  if (api.tokens.empty()) spdlog::warn("api: no api.tokens configured: the API is open to anyone on this machine");
  auto shared = std::make_shared<Shared>(std::move(ctx), api);
  const ApiContext& c = shared->ctx;
  if (c.ingest) {
    add_route(server, shared, "POST", "/v1/events", Permission::publish,
              [ingest = c.ingest, counted = shared->ingested](HttpRequest req, const Caller&, HttpResponder respond) {
                post_events(*ingest, counted, std::move(req), std::move(respond));
              });
  }
  if (c.status) {
    add_route(server, shared, "GET", "/v1/events/{id}", Permission::view,
              [status = c.status](HttpRequest req, const Caller&, HttpResponder respond) {
                get_event(*status, std::move(req), std::move(respond));
              });
  }
  install_receipts(server, shared);
  install_operations_routes(server, shared);
  install_status_routes(server, shared);
  install_health(server, shared);
  if (c.status) install_console(server);
  return std::unique_ptr<ApiRoutes>(new ApiRoutes(shared));
}

ApiRoutes::ApiRoutes(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

ApiRoutes::~ApiRoutes() { stop(); }

void ApiRoutes::stop() { shared_->later.stop(); }

}  // namespace sunbeam
