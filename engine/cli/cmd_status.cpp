// `sunbeam status EVENT_ID`: a client of GET /v1/events/{id}.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/status_table.h"
#include "engine/core/json_fields.h"

#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <iostream>

namespace sunbeam::cli {

int status(const GlobalOptions& g, const StatusOptions& o) {
  const auto base = api_base(g, o.api);
  auto answer = call_api("GET", base + "/v1/events/" + boost::urls::encode(o.event_id, boost::urls::unreserved_chars));
  if (!answer) {
    report_error(answer.error().message);
    return exit_user_error;
  }
  if (answer->status != 200) {
    const auto* e = json_fields::object_or_null(answer->body, "error");
    report_error(e ? json_fields::string_or(*e, "message") : "the API answered " + std::to_string(answer->status));
    return exit_user_error;
  }
  if (o.json) {
    std::cout << boost::json::serialize(answer->body) << "\n";
  } else {
    print_event_status(std::cout, answer->body);
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
