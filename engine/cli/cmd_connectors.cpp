// `sunbeam connectors [suspend NAME | resume NAME]`: a client of
// GET /v1/connectors and POST /v1/connectors/{name}/suspend|resume. Lists the
// connectors with their state, breaker, rate and this engine's figures, or
// suspends or resumes one (a suspended connector's deliveries wait).
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/text_table.h"
#include "engine/core/json_fields.h"

#include <iostream>
#include <sstream>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;
using json_fields::int_or;
using json_fields::string_or;

bool suspended(const json::object& c) {
  const auto* s = c.if_contains("suspended");
  return s && s->is_bool() && s->get_bool();
}

// "sms primary", "sms,email fallback", or "-" when no route uses it.
std::string channels_and_role(const json::object& c) {
  std::string channels;
  if (const auto* list = c.if_contains("channels"); list && list->is_array())
    for (const auto& ch : list->get_array())
      if (ch.is_string()) channels += (channels.empty() ? "" : ",") + std::string(ch.get_string());
  const auto role = string_or(c, "role");
  if (channels.empty()) return role.empty() ? "-" : role;
  return role.empty() ? channels : channels + " " + role;
}

// "50/s", "0.5/s", or "unlimited" (null).
std::string rate(const json::object& c) {
  const auto* r = c.if_contains("rate");
  if (!r || !r->is_number()) return "unlimited";
  std::ostringstream s;
  s << r->to_number<double>() << "/s";
  return s.str();
}

void print_connectors(const json::object& answer) {
  TextTable table({"name", "kind", "channels/role", "state", "breaker", "rate", "queued", "in flight", "sent", "failed"});
  if (const auto* list = answer.if_contains("connectors"); list && list->is_array())
    for (const auto& v : list->get_array()) {
      if (!v.is_object()) continue;
      const auto& c = v.get_object();
      table.add({string_or(c, "name"), string_or(c, "kind"), channels_and_role(c), suspended(c) ? "suspended" : "active",
                 string_or(c, "breaker"), rate(c), std::to_string(int_or(c, "queued")), std::to_string(int_or(c, "in_flight")),
                 std::to_string(int_or(c, "sent")), std::to_string(int_or(c, "failed"))});
    }
  table.print(std::cout);  // figures only: nothing to cut, a narrow terminal wraps
}

int list(const std::string& base, const ConnectorsOptions& o) {
  auto answer = request_api("GET", base + "/v1/connectors", "viewer");
  if (!answer) return fail(answer.error());
  if (o.json) print_api_json(*answer);
  else print_connectors(answer->body);
  return exit_ok;
}

int suspend_or_resume(const std::string& base, const ConnectorsOptions& o) {
  const bool suspend = o.action == ConnectorsOptions::Action::suspend;
  const auto url = base + "/v1/connectors/" + url_segment(o.name) + (suspend ? "/suspend" : "/resume");
  auto answer = request_api("POST", url, "operator");
  if (!answer) return fail(answer.error());
  if (o.json) {
    print_api_json(*answer);
  } else if (suspended(answer->body)) {
    std::cout << "connector " << o.name << ": suspended (its deliveries wait in the queue; nothing is dropped)\n";
  } else {
    std::cout << "connector " << o.name << ": active\n";
  }
  return exit_ok;
}

}  // namespace

int connectors(const GlobalOptions& g, const ConnectorsOptions& o) {
  const auto base = api_base(g, o.api);
  return o.action == ConnectorsOptions::Action::list ? list(base, o) : suspend_or_resume(base, o);
}

}  // namespace sunbeam::cli
