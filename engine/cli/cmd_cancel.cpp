// `sunbeam cancel EVENT_ID [--yes]`: a client of POST /v1/events/{id}/cancel.
// Withdraws an event published by mistake: what was not yet sent ends
// cancelled. Asks first on a terminal; elsewhere it takes --yes.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/terminal.h"
#include "engine/core/json_fields.h"

#include <iostream>

namespace sunbeam::cli {
namespace {

std::optional<Error> confirmation_refused(const CancelOptions& o) {
  if (o.yes) return std::nullopt;
  if (!stdin_is_terminal())
    return make_error("cancel", "no terminal to ask whether to cancel " + o.event_id + ": pass --yes to cancel without asking");
  if (confirm("Cancel event " + o.event_id + "? Its deliveries not yet sent end cancelled.")) return std::nullopt;
  return make_error("cancel", "not confirmed: " + o.event_id + " is not cancelled");
}

// "cancelled 118 deliveries of e1 (2 already sent)", and what is still on its way to cancelled.
void print_cancelled(const boost::json::object& answer, const std::string& event_id) {
  using json_fields::int_or;
  std::cout << "cancelled " << int_or(answer, "cancelled") << " deliveries of " << event_id << " ("
            << int_or(answer, "already_sent") << " already sent)";
  if (const auto pending = int_or(answer, "pending"); pending > 0)
    std::cout << "; " << pending << " more not yet recorded, which end cancelled too";
  std::cout << "\n";
}

}  // namespace

int cancel(const GlobalOptions& g, const CancelOptions& o) {
  if (auto refused = confirmation_refused(o)) return fail(*refused);
  const auto url = api_base(g, o.api) + "/v1/events/" + url_segment(o.event_id) + "/cancel";
  auto answer = request_api("POST", url, "operator");
  if (!answer) return fail(answer.error());
  if (o.json) print_api_json(*answer);
  else print_cancelled(answer->body, o.event_id);
  return exit_ok;
}

}  // namespace sunbeam::cli
