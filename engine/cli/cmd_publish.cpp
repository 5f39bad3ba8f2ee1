// `sunbeam publish FILE|-`: a client of POST /v1/events. Prints one line per
// event (accepted, duplicate, or rejected with the reason); exit 1 if any
// was not accepted.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/net/http_client.h"

#include <boost/json/parse.hpp>

#include <iostream>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One result object of the API: {"id","status","error":{...}}. True when it counts as success.
bool print_result(const json::object& r) {
  const auto status = str(r, "status");
  std::cout << (str(r, "id").empty() ? "(no id)" : str(r, "id")) << ": " << status;
  if (const auto* e = r.if_contains("error"); e && e->is_object()) {
    const auto& eo = e->get_object();
    std::cout << ": " << str(eo, "message");
    if (!str(eo, "field").empty()) std::cout << " [" << str(eo, "field") << "]";
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
  const auto base = api_base(g, o.api);
  HttpCall call;
  call.method = "POST";
  call.url = base + "/v1/events";
  call.body = *body;
  call.content_type = "application/json";
  call.headers = api_headers();
  auto response = http_call(call);
  if (!response) {
    report_error(response.error().message);
    return exit_user_error;
  }
  boost::system::error_code ec;
  auto answer = json::parse(response->body, ec);
  if (ec || !answer.is_object()) {
    report_error("the API at " + base + " answered " + std::to_string(response->status) + " with a body that is not JSON");
    return exit_user_error;
  }
  const auto& o_answer = answer.get_object();
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
