// What the status index answers (engine/status): recent events, failed
// deliveries, digest runs; and replays, which select from the same index.
#include "config/config.h"
#include "engine/api/api_shared.h"
#include "engine/control/control_reader.h"
#include "engine/core/clock.h"
#include "engine/core/time_format.h"
#include "engine/status/status_view.h"

#include <charconv>

namespace sunbeam {
namespace {

namespace json = boost::json;
using Shared = std::shared_ptr<ApiRoutes::Shared>;

constexpr std::size_t default_failures = 100, max_failures = 10000;
constexpr std::size_t default_events = 50, max_events = 500;

// ?limit=N within [1, max]; absent: `fallback`.
Result<std::size_t> limit_param(const HttpRequest& req, std::size_t fallback, std::size_t max) {
  const auto it = req.query_params.find("limit");
  if (it == req.query_params.end() || it->second.empty()) return fallback;
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  if (ec != std::errc{} || end != it->second.data() + it->second.size() || n == 0 || n > max)
    return make_error("bad_request", "limit must be a whole number from 1 to " + std::to_string(max), "limit");
  return n;
}

json::object failure_json(const FailureRow& f) {
  return {{"delivery_id", f.delivery_id}, {"event_id", f.event_id}, {"event_type", f.event_type},
          {"account", f.account},         {"channel", f.channel},   {"tier", f.tier},
          {"connector", f.connector},     {"attempt", f.attempt},   {"reason", f.reason},
          {"time", format_rfc3339_utc(f.time_ms)}};
}

json::object digest_run_json(const DigestRun& r) {
  return {{"date", r.date},         {"trigger", r.trigger}, {"state", r.state},       {"accounts", r.accounts},
          {"messages", r.messages}, {"items", r.items},     {"expired", r.expired}, {"time", format_rfc3339_utc(r.time_ms)}};
}

HttpResponse loading() {
  return unavailable("loading", "the status index is still reading the status topic; try again shortly");
}

void get_events(const Shared& shared, HttpRequest req, const Caller&, HttpResponder respond) {
  auto limit = limit_param(req, default_events, max_events);
  if (!limit) return respond(error_response(400, limit.error().code, limit.error().message, limit.error().field));
  json::array events;
  for (const auto& e : shared->ctx.status->recent_events(*limit)) {
    auto o = e.status.to_json();
    o.erase("groups");  // the list shows totals; GET /v1/events/{id} has the groups
    o["time"] = format_rfc3339_utc(e.time_ms);
    o["cancelled"] = e.cancelled || (shared->ctx.orders && shared->ctx.orders->cancelled(e.status.event_id));
    events.push_back(std::move(o));
  }
  json::object body{{"events", std::move(events)}};
  if (!shared->ctx.status->caught_up()) body["loading"] = true;
  respond(json_response(200, body));
}

}  // namespace

// The selector of GET /v1/failures and POST /v1/replays, from query
// parameters or a JSON object's strings: event, since, until, connector, reason.
Result<FailureSelector> parse_selector(const std::map<std::string, std::string>& fields, std::int64_t now) {
  FailureSelector s;
  auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = fields.find(key);
    if (it == fields.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  s.event_id = text("event");
  s.connector = text("connector");
  s.reason = text("reason");
  for (const char* key : {"since", "until"}) {
    if (auto t = text(key)) {
      auto ms = parse_time_bound(*t, now, key);
      if (!ms) return ms.error();
      (std::string(key) == "since" ? s.since_ms : s.until_ms) = *ms;
    }
  }
  return s;
}

namespace {

void get_failures(const Shared& shared, HttpRequest req, const Caller&, HttpResponder respond) {
  auto limit = limit_param(req, default_failures, max_failures);
  if (!limit) return respond(error_response(400, limit.error().code, limit.error().message, limit.error().field));
  auto selector = parse_selector(req.query_params, now_ms());
  if (!selector) return respond(error_response(400, selector.error().code, selector.error().message, selector.error().field));
  if (!shared->ctx.status->caught_up()) return respond(loading());
  auto page = shared->ctx.status->failures(*selector, *limit);
  json::array rows;
  for (const auto& f : page.rows) rows.push_back(failure_json(f));
  respond(json_response(200, json::object{{"total", page.total}, {"failures", std::move(rows)}}));
}

void get_digests(const Shared& shared, HttpRequest req, const Caller&, HttpResponder respond) {
  auto limit = limit_param(req, 30, 366);
  if (!limit) return respond(error_response(400, limit.error().code, limit.error().message, limit.error().field));
  json::array runs;
  for (const auto& r : shared->ctx.status->digest_runs(*limit)) runs.push_back(digest_run_json(r));
  respond(json_response(200, json::object{{"digests", std::move(runs)}}));
}

void get_digest(const Shared& shared, HttpRequest req, const Caller&, HttpResponder respond) {
  const std::string date = req.path_params["date"];
  if (auto run = shared->ctx.status->digest_run(date)) return respond(json_response(200, digest_run_json(*run)));
  if (!shared->ctx.status->caught_up()) return respond(loading());
  respond(error_response(404, "not_found", "no digest run recorded for " + date + " (yet)", "date"));
}

}  // namespace

void install_status_routes(HttpServer& server, const Shared& shared) {
  if (!shared->ctx.status) return;
  add_route(server, shared, "GET", "/v1/events", Permission::view,
            [shared](HttpRequest req, const Caller& c, HttpResponder respond) {
              get_events(shared, std::move(req), c, std::move(respond));
            });
  add_route(server, shared, "GET", "/v1/failures", Permission::operate,
            [shared](HttpRequest req, const Caller& c, HttpResponder respond) {
              get_failures(shared, std::move(req), c, std::move(respond));
            });
  add_route(server, shared, "GET", "/v1/digests", Permission::view,
            [shared](HttpRequest req, const Caller& c, HttpResponder respond) {
              get_digests(shared, std::move(req), c, std::move(respond));
            });
  add_route(server, shared, "GET", "/v1/digests/{date}", Permission::view,
            [shared](HttpRequest req, const Caller& c, HttpResponder respond) {
              get_digest(shared, std::move(req), c, std::move(respond));
            });
  install_replay_routes(server, shared);
}

}  // namespace sunbeam
