// `sunbeam publish FILE|-`: a client of POST /v1/events. Prints one line per
// event (accepted, duplicate, or rejected with the reason); exit 1 if any
// was not accepted.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/core/json_fields.h"

#include <iostream>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;
using json_fields::string_or;

// One result object of the API: {"id","status","error":{...}}. True when it counts as success.
bool print_result(const json::object& r) {
  const auto status = string_or(r, "status");
  std::cout << (string_or(r, "id").empty() ? "(no id)" : string_or(r, "id")) << ": " << status;
  if (const auto* e = r.if_contains("error"); e && e->is_object()) {
    const auto& eo = e->get_object();
    std::cout << ": " << string_or(eo, "message");
    if (!string_or(eo, "field").empty()) std::cout << " [" << string_or(eo, "field") << "]";
  }
  std::cout << "\n";
  return status == "accepted" || status == "duplicate";
}

}  // namespace

int publish(const GlobalOptions& g, const PublishOptions& o) {
  auto body = read_input(o.file);
  if (!body) {
    report_error(o.file + ": cannot read the file");
    return exit_user_error;
  }
  auto answer = call_api("POST", api_base(g, o.api) + "/v1/events", *body);
  if (!answer) {
    report_error(answer.error().message);
    return exit_user_error;
  }
  const auto& o_answer = answer->body;
  bool all_ok = true;
  if (const auto* results = o_answer.if_contains("results"); results && results->is_array()) {
    for (const auto& r : results->get_array())
      if (r.is_object()) all_ok = print_result(r.get_object()) && all_ok;
  } else if (o_answer.contains("status")) {
    all_ok = print_result(o_answer);
  } else {
    // An error about the request as a whole (413, 401, ...).
    json::object wrapped{{"status", "rejected"}, {"error", o_answer.contains("error") ? o_answer.at("error") : json::value()}};
    all_ok = print_result(wrapped);
  }
  return all_ok ? exit_ok : exit_user_error;
}

}  // namespace sunbeam::cli
