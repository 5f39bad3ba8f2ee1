// How a replay's progress (GET /v1/replays/{id}) is shown: a one-line bar
// redrawn in place on a terminal, plain lines otherwise (logs, pipes, CI).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sunbeam::cli {

struct ReplayProgress {
  std::string replay_id;
  std::int64_t matched = 0;  // failed deliveries the replay selected
  std::int64_t queued = 0;   // re-queued so far
  std::int64_t sent = 0;     // now sent, delivered or undelivered
  std::int64_t failed = 0;   // failed again (or cancelled, expired, suppressed)
  std::int64_t pending = 0;
  bool done = false;

  std::int64_t settled() const { return sent + failed; }
  bool operator==(const ReplayProgress&) const = default;
};

// Reads the API's answer; absent figures read as 0.
ReplayProgress replay_progress(const boost::json::object& answer);

// Exactly `width` columns (pad with spaces, so a redraw after `\r` leaves
// nothing of the previous one): "[#####.....] 104/214 sent 100 failed 4".
// The bar fills with settled/matched (full when nothing matched) and keeps
// its length as the figures grow; when the width leaves no room for a useful
// bar, only the figures, cut to fit.
std::string progress_bar(const ReplayProgress& progress, std::size_t width);

// One line for logs: "replay r-1: queued 214/214, sent 120, failed 4, pending 90".
std::string progress_line(const ReplayProgress& progress);

}  // namespace sunbeam::cli
