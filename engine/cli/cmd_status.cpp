// `sunbeam status EVENT_ID`: a client of GET /v1/events/{id}.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/status_table.h"
#include "engine/net/http_client.h"

#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <iostream>

namespace sunbeam::cli {

int status(const GlobalOptions& g, const StatusOptions& o) {
  const auto base = api_base(g, o.api);
  HttpCall call;
  call.method = "GET";
  call.url = base + "/v1/events/" + boost::urls::encode(o.event_id, boost::urls::unreserved_chars);
  call.headers = api_headers();
  auto response = http_call(call);
  if (!response) {
    report_error(response.error().message);
    return exit_user_error;
  }
  boost::system::error_code ec;
  auto answer = boost::json::parse(response->body, ec);
  if (ec || !answer.is_object()) {
    report_error("the API at " + base + " answered " + std::to_string(response->status) + " with a body that is not JSON");
    return exit_user_error;
  }
  if (response->status != 200) {
    const auto* e = answer.get_object().if_contains("error");
    const auto* m = e && e->is_object() ? e->get_object().if_contains("message") : nullptr;
    report_error(m && m->is_string() ? std::string(m->get_string()) : "the API answered " + std::to_string(response->status));
    return exit_user_error;
  }
  if (o.json) {
    std::cout << response->body << "\n";
  } else {
    print_event_status(std::cout, answer.get_object());
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
