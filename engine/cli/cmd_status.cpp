// `sunbeam status EVENT_ID`: a client of GET /v1/events/{id}.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/status_table.h"

#include <iostream>

namespace sunbeam::cli {

int status(const GlobalOptions& g, const StatusOptions& o) {
  auto answer = request_api("GET", api_base(g, o.api) + "/v1/events/" + url_segment(o.event_id), "viewer");
  if (!answer) return fail(answer.error());
  if (o.json) {
    print_api_json(*answer);
  } else {
    print_event_status(std::cout, answer->body);
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
