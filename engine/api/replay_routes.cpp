// Replays: POST /v1/replays (dry run or start), GET /v1/replays[/{id}].
// The service (engine/replay) selects from the status index and produces
// behind; these handlers only translate.
#include "engine/api/api_shared.h"
#include "engine/core/clock.h"
#include "engine/core/time_format.h"
#include "engine/replay/replay_service.h"

namespace sunbeam {
namespace {

namespace json = boost::json;
using Shared = std::shared_ptr<ApiRoutes::Shared>;

json::object progress_json(const ReplayProgress& p) {
  return {{"replay_id", p.replay_id}, {"selector", p.selector.to_json()}, {"created_at", format_rfc3339_utc(p.created_at_ms)},
          {"matched", p.matched},     {"queued", p.queued},               {"sent", p.sent},
          {"failed", p.failed},       {"pending", p.pending},             {"done", p.done}};
}

HttpResponse replay_error(const Error& e) {
  if (e.code == "loading" || e.code == "replay_unavailable") return unavailable(e.code, e.message);
  return error_response(400, e.code, e.message, e.field);
}

// {"selector": {event, since, until, connector, reason, all}, "dry_run": bool}
Result<std::pair<FailureSelector, bool>> replay_request(const HttpRequest& req) {
  auto body = json_body(req);
  if (!body) return body.error();
  std::map<std::string, std::string> fields;
  bool all = false, dry_run = false;
  if (const auto* s = body->if_contains("selector")) {
    if (!s->is_object()) return make_error("bad_request", "selector must be an object", "selector");
    for (const auto& [key, value] : s->get_object()) {
      if (key == "all") {
        if (!value.is_bool()) return make_error("bad_request", "selector.all must be true or false", "selector.all");
        all = value.get_bool();
      } else if (key == "event" || key == "since" || key == "until" || key == "connector" || key == "reason") {
        if (!value.is_string()) return make_error("bad_request", "selector." + std::string(key) + " must be a string", "selector." + std::string(key));
        fields[std::string(key)] = value.get_string();
      } else {
        return make_error("bad_request", "selector." + std::string(key) + " is not a selector (event, since, until, connector, reason, all)",
                          "selector." + std::string(key));
      }
    }
  }
  if (const auto* d = body->if_contains("dry_run")) {
    if (!d->is_bool()) return make_error("bad_request", "dry_run must be true or false", "dry_run");
    dry_run = d->get_bool();
  }
  auto selector = parse_selector(fields, now_ms());
  if (!selector) return selector.error();
  selector->all = all;
  return std::pair{std::move(*selector), dry_run};
}

void post_replay(ReplayService& replays, HttpRequest req, HttpResponder respond) {
  auto request = replay_request(req);
  if (!request) return respond(error_response(400, request.error().code, request.error().message, request.error().field));
  auto& [selector, dry_run] = *request;
  if (dry_run) {
    auto matched = replays.plan(selector);
    if (!matched) return respond(replay_error(matched.error()));
    return respond(json_response(200, json::object{{"replay_id", nullptr}, {"matched", *matched}, {"dry_run", true}}));
  }
  // Recording a large replay's items takes a while: off the HTTP thread.
  replays.start_async(selector, [respond = std::move(respond)](Result<ReplayStarted> started) {
    if (!started) return respond(replay_error(started.error()));
    respond(json_response(202, json::object{{"replay_id", started->replay_id}, {"matched", started->matched}}));
  });
}

}  // namespace

void install_replay_routes(HttpServer& server, const Shared& shared) {
  ReplayService* replays = shared->ctx.replays;
  if (!replays) return;
  add_route(server, shared, "POST", "/v1/replays", Permission::operate,
            [replays](HttpRequest req, const Caller&, HttpResponder respond) {
              post_replay(*replays, std::move(req), std::move(respond));
            });
  add_route(server, shared, "GET", "/v1/replays", Permission::operate,
            [replays](HttpRequest, const Caller&, HttpResponder respond) {
              json::array list;
              for (const auto& p : replays->recent(50)) list.push_back(progress_json(p));
              respond(json_response(200, json::object{{"replays", std::move(list)}}));
            });
  add_route(server, shared, "GET", "/v1/replays/{id}", Permission::operate,
            [replays](HttpRequest req, const Caller&, HttpResponder respond) {
              const std::string id = req.path_params["id"];
              if (auto p = replays->progress(id)) return respond(json_response(200, progress_json(*p)));
              respond(error_response(404, "not_found", "no replay " + id, "id"));
            });
}

}  // namespace sunbeam
