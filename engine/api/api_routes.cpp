#include "engine/api/api_routes.h"

#include "connectors/connector_options.h"
#include "connectors/registry.h"
#include "engine/core/clock.h"
#include "engine/ingest/ingest.h"
#include "engine/kafka/producer.h"
#include "engine/net/http_server.h"
#include "engine/status/status_view.h"

#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <memory>

namespace sunbeam {
namespace {

namespace json = boost::json;

HttpResponse json_response(unsigned status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

HttpResponse error_response(unsigned status, std::string code, std::string message, std::string field = {}) {
  return json_response(status, json::object{{"error", json::object{{"code", std::move(code)},
                                                                   {"message", std::move(message)},
                                                                   {"field", std::move(field)}}}});
}

void post_events(Ingest& ingest, HttpRequest request, HttpResponder respond) {
  ingest.submit(request.body, [respond = std::move(respond)](IngestReply reply) {
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
  if (!status.caught_up()) {
    auto r = error_response(503, "loading", "the status view is still reading the status topic; try again shortly");
    r.headers.emplace_back("Retry-After", "1");
    return respond(std::move(r));
  }
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
using ReceiptSecrets = std::map<std::string, Result<std::string>, std::less<>>;

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
  const auto received = unix_ms(std::chrono::system_clock::now());
  for (auto& receipt : *receipts) {
    ReceiptRecord record{name, std::move(receipt), received};
    const std::string key = record.receipt.reference.empty() ? record.receipt.gateway_message_id : record.receipt.reference;
    auto done = [pending](Result<void> r) {
      if (!r) pending->failed = true;
      if (--pending->left > 0) return;
      if (pending->failed) {
        auto busy = error_response(503, "unavailable", "receipts could not be stored; send them again");
        busy.headers.emplace_back("Retry-After", "1");
        return pending->respond(std::move(busy));
      }
      pending->respond(json_response(202, json::object{{"accepted", pending->total}}));
    };
    if (auto r = intake.producer->produce(intake.topic, key, serialize(record), done, kafka::QueueFull::fail); !r)
      done(r.error());
  }
}

}  // namespace

void install_api_routes(HttpServer& server, ApiContext ctx) {
  if (ctx.ingest) {
    server.route("POST", "/v1/events", [ingest = ctx.ingest](HttpRequest req, HttpResponder respond) {
      post_events(*ingest, std::move(req), std::move(respond));
    });
  }
  if (ctx.status) {
    server.route("GET", "/v1/events/{id}", [status = ctx.status](HttpRequest req, HttpResponder respond) {
      get_event(*status, std::move(req), std::move(respond));
    });
  }
  if (ctx.receipts.connectors && ctx.receipts.config && ctx.receipts.producer) {
    auto secrets = std::make_shared<const ReceiptSecrets>(read_receipt_secrets(ctx.receipts));
    for (const char* method : {"POST", "GET"}) {
      server.route(method, "/v1/receipts/{connector}", [intake = ctx.receipts, secrets](HttpRequest req, HttpResponder respond) {
        post_receipts(intake, *secrets, std::move(req), std::move(respond));
      });
    }
  }
  server.route("GET", "/healthz", [](HttpRequest, HttpResponder respond) {
    respond(json_response(200, json::object{{"status", "ok"}}));
  });
  server.route("GET", "/readyz", [ctx](HttpRequest, HttpResponder respond) {
    // Ready once the engine started (Kafka reached, config and directory
    // loaded) and, when it serves status, the status view has caught up.
    const bool ready = !ctx.status || ctx.status->caught_up();
    respond(json_response(ready ? 200 : 503, json::object{{"ready", ready}, {"roles", ctx.roles.to_string()}}));
  });
}

}  // namespace sunbeam
