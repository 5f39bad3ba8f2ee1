// Printing event status as people read it. Works on the JSON of
// EventStatus::to_json(), the API's own type, so `sunbeam status` (a client
// of the API) and `sunbeam demo` (in process) print the same thing.
#pragma once

#include <boost/json/object.hpp>

#include <ostream>
#include <vector>

namespace sunbeam::cli {

// `sunbeam status`: per tier and channel, every state and the suppressed reasons.
void print_event_status(std::ostream& out, const boost::json::object& status);
// `sunbeam demo`: one row per (event, tier, channel): event, type, tier, channel, sent, suppressed.
void print_demo_table(std::ostream& out, const std::vector<boost::json::object>& statuses);

}  // namespace sunbeam::cli
