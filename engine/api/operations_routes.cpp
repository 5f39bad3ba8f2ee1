// Operators' orders: cancel an event, suspend or resume a connector, send a
// digest now. Each order goes on the control topic (engine/control), which
// every role it concerns reads, in whichever process it runs; the answer
// comes once Kafka has the order (a cancel waits for its effect, bounded).
#include "config/config.h"
#include "connectors/registry.h"
#include "engine/api/api_shared.h"
#include "engine/control/control_reader.h"
#include "engine/control/control_record.h"
#include "engine/core/clock.h"
#include "engine/core/time_format.h"
#include "engine/dispatch/dispatch_role.h"
#include "engine/dispatch/local_time.h"
#include "engine/ingest/ingest.h"
#include "engine/kafka/topics.h"
#include "engine/status/status_view.h"

#include <spdlog/spdlog.h>

namespace sunbeam {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Shared = std::shared_ptr<ApiRoutes::Shared>;

constexpr auto cancel_answer_within = 10s;

// Sends `order`, then `then()` once Kafka has it; 503 if it cannot.
void give_order(const Shared& shared, ControlRecord order, HttpResponder respond, std::function<void(HttpResponder)> then) {
  const ApiContext& ctx = shared->ctx;
  auto shared_respond = std::make_shared<HttpResponder>(std::move(respond));
  const auto what = std::string(to_string(order.kind)) + " " + order.target;
  publish_order(*ctx.producer, ctx.topics->control, order,
                [shared_respond, then = std::move(then), what, by = order.by](Result<void> r) {
                  if (!r) {
                    spdlog::error("api: order {} not recorded: {}", what, r.error().message);
                    return (*shared_respond)(unavailable("unavailable", "the order could not be recorded in Kafka; try again"));
                  }
                  spdlog::info("api: order {} by {}", what, by.empty() ? "(open API)" : by);
                  then(std::move(*shared_respond));
                });
}

// ---- cancel ----------------------------------------------------------------

json::object cancel_answer(const std::string& event_id, const std::optional<EventStatus>& status) {
  std::int64_t cancelled = 0, already_sent = 0, pending = 0;
  if (status) {
    const auto t = status->totals();
    cancelled = t.count(DeliveryState::cancelled);
    already_sent = t.count(DeliveryState::sent) + t.count(DeliveryState::delivered) + t.count(DeliveryState::undelivered);
    pending = std::max<std::int64_t>(0, t.planned - t.terminal());  // not yet in a final state
  }
  return {{"event_id", event_id}, {"cancelled", cancelled}, {"already_sent", already_sent}, {"pending", pending}};
}

void post_cancel(const Shared& shared, HttpRequest req, const Caller& caller, HttpResponder respond) {
  const ApiContext& ctx = shared->ctx;
  const std::string id = req.path_params["id"];
  const bool known = (ctx.status && ctx.status->event(id)) || (ctx.ingest && ctx.ingest->published(id));
  if (!known) {
    if (ctx.status && !ctx.status->caught_up())
      return respond(unavailable("loading", "the status index is still loading; try again shortly"));
    return respond(error_response(404, "not_found", "no event " + id + " was published", "id"));
  }
  ControlRecord order{ControlKind::cancel, id, caller.name, now_ms()};
  give_order(shared, order, std::move(respond), [shared, id](HttpResponder respond) {
    // Answer once the engine has settled the event's deliveries (each one
    // recorded), or with what is known when the wait ends.
    shared->later.add(
        [shared, id, respond = std::move(respond)](bool last) {
          auto status = shared->ctx.status ? shared->ctx.status->event(id) : std::nullopt;
          auto answer = cancel_answer(id, status);
          const bool settled = status && status->fanned_out && answer["pending"].as_int64() == 0;
          if (!settled && !last) return false;
          respond(json_response(200, answer));
          return true;
        },
        cancel_answer_within);
  });
}

// ---- connectors ------------------------------------------------------------

json::object connector_json(const ApiContext& ctx, const ConnectorConfig& cc, const std::vector<ConnectorState>& figures) {
  json::array channels;
  std::string role;
  for (const auto& [channel, route] : ctx.config->routing) {
    if (route.connector == cc.name) role = "primary";
    else if (route.fallback == cc.name && role.empty()) role = "fallback";
    else continue;
    channels.push_back(json::string(to_string(channel)));
  }
  json::object o{{"name", cc.name}, {"kind", cc.kind}, {"channels", std::move(channels)}, {"role", role},
                 {"suspended", ctx.orders && ctx.orders->suspended(cc.name)}, {"breaker", "closed"},
                 {"rate", cc.rate.per_second() > 0 ? json::value(cc.rate.per_second()) : json::value(nullptr)},
                 {"queued", 0}, {"in_flight", 0}, {"sent", 0}, {"failed", 0}};
  for (const auto& f : figures) {
    if (f.name != cc.name) continue;
    o["suspended"] = f.suspended;
    o["breaker"] = f.breaker;
    o["queued"] = f.queued;
    o["in_flight"] = f.in_flight;
    o["sent"] = f.sent;
    o["failed"] = f.failed;
  }
  return o;
}

std::vector<ConnectorState> figures_of(const ApiContext& ctx) {
  return ctx.dispatch ? ctx.dispatch->connector_states() : std::vector<ConnectorState>{};
}

void get_connectors(const Shared& shared, HttpRequest, const Caller&, HttpResponder respond) {
  const ApiContext& ctx = shared->ctx;
  const auto figures = figures_of(ctx);
  json::array list;
  for (const auto& cc : ctx.config->connectors) list.push_back(connector_json(ctx, cc, figures));
  respond(json_response(200, json::object{{"connectors", std::move(list)}}));
}

void post_suspend(const Shared& shared, HttpRequest req, const Caller& caller, HttpResponder respond, bool suspend) {
  const std::string name = req.path_params["name"];
  const ConnectorConfig* cc = shared->ctx.config->connector(name);
  if (!cc) return respond(error_response(404, "not_found", "no connector named " + name, "name"));
  ControlRecord order{suspend ? ControlKind::suspend : ControlKind::resume, name, caller.name, now_ms()};
  give_order(shared, order, std::move(respond), [shared, cc, suspend](HttpResponder respond) {
    auto o = connector_json(shared->ctx, *cc, figures_of(shared->ctx));
    o["suspended"] = suspend;  // ordered; this process's dispatch applies it within a moment
    respond(json_response(200, o));
  });
}

// ---- digests ---------------------------------------------------------------

void post_digest(const Shared& shared, HttpRequest req, const Caller& caller, HttpResponder respond) {
  auto body = json_body(req);
  if (!body) return respond(error_response(400, body.error().code, body.error().message));
  std::string date;
  if (const auto* d = body->if_contains("date")) {
    if (!d->is_string() || !parse_rfc3339_ms(std::string(d->get_string()) + "T00:00:00Z"))
      return respond(error_response(400, "bad_request", "date must be YYYY-MM-DD", "date"));
    date = d->get_string();
  } else {
    auto today = local_day(std::chrono::system_clock::now(), shared->ctx.config->schedule.timezone);
    if (!today) return respond(error_response(500, "internal", today.error().message));
    date = *today;
  }
  ControlRecord order{ControlKind::digest_now, date, caller.name, now_ms()};
  give_order(shared, order, std::move(respond), [date](HttpResponder respond) {
    respond(json_response(202, json::object{{"date", date}, {"requested", true}}));
  });
}

}  // namespace

void install_operations_routes(HttpServer& server, const Shared& shared) {
  const ApiContext& c = shared->ctx;
  if (!c.producer || !c.topics) return;
  add_route(server, shared, "POST", "/v1/events/{id}/cancel", Permission::operate,
            [shared](HttpRequest req, const Caller& caller, HttpResponder respond) {
              post_cancel(shared, std::move(req), caller, std::move(respond));
            });
  add_route(server, shared, "GET", "/v1/connectors", Permission::view,
            [shared](HttpRequest req, const Caller& caller, HttpResponder respond) {
              get_connectors(shared, std::move(req), caller, std::move(respond));
            });
  for (bool suspend : {true, false}) {
    add_route(server, shared, "POST", suspend ? "/v1/connectors/{name}/suspend" : "/v1/connectors/{name}/resume",
              Permission::operate, [shared, suspend](HttpRequest req, const Caller& caller, HttpResponder respond) {
                post_suspend(shared, std::move(req), caller, std::move(respond), suspend);
              });
  }
  add_route(server, shared, "POST", "/v1/digests", Permission::operate,
            [shared](HttpRequest req, const Caller& caller, HttpResponder respond) {
              post_digest(shared, std::move(req), caller, std::move(respond));
            });
}

}  // namespace sunbeam
