// Which failed deliveries an operator means: the selector `sunbeam failures`
// and `sunbeam replay` share (docs/api.md: GET /v1/failures, POST
// /v1/replays), as the query string of the one and the JSON of the other.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace sunbeam::cli {

struct FailureSelector {
  // Empty: not given. since/until are RFC 3339 or an age ("30m", "2h", "1d");
  // the API checks them, so the CLI and the console read them the same way.
  std::string event;
  std::string since;
  std::string until;
  std::string connector;
  std::string reason;  // a substring of the last error

  bool empty() const;
};

// `<api_base>/v1/failures?event=...&limit=N`, every value percent-encoded
// (an offset's '+' would otherwise read as a space).
std::string failures_url(const std::string& api_base, const FailureSelector& selector, std::optional<int> limit);
// {"event": ..., ...} with only the fields given.
boost::json::object selector_json(const FailureSelector& selector);
// The body of POST /v1/replays: the selector, with "all" in it when
// everything is meant (the API refuses an empty selector without it), and "dry_run".
boost::json::object replay_request(const FailureSelector& selector, bool all, bool dry_run);
// For people: "event e1, connector gateway" or "every failed delivery".
std::string describe(const FailureSelector& selector);

}  // namespace sunbeam::cli
