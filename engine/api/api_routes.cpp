#include "engine/api/api_routes.h"

#include "engine/ingest/ingest.h"
#include "engine/net/http_server.h"
#include "engine/status/status_view.h"

#include <boost/json/serialize.hpp>

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
