#include "engine/cli/progress_bar.h"

#include "engine/cli/text_table.h"
#include "engine/core/json_fields.h"

#include <algorithm>

namespace sunbeam::cli {
namespace {

// Narrower than this, a bar says nothing the figures do not; wider than the
// maximum, it only makes the eye travel.
constexpr std::size_t min_bar_cells = 5;
constexpr std::size_t max_bar_cells = 50;

std::string figures(std::int64_t settled, std::int64_t matched, std::int64_t sent, std::int64_t failed) {
  return std::to_string(settled) + "/" + std::to_string(matched) + " sent " + std::to_string(sent) + " failed " +
         std::to_string(failed);
}

std::string figures(const ReplayProgress& p) { return figures(p.settled(), p.matched, p.sent, p.failed); }

// The width of the figures at their widest in this replay (each count as
// wide as what matched): the bar keeps its length while the counts grow.
std::size_t widest_figures(const ReplayProgress& p) {
  const auto m = p.matched;
  return figures(std::max(p.settled(), m), m, std::max(p.sent, m), std::max(p.failed, m)).size();
}

std::size_t filled_cells(const ReplayProgress& p, std::size_t cells) {
  if (p.matched <= 0) return cells;  // nothing to do is all done
  const auto settled = std::clamp<std::int64_t>(p.settled(), 0, p.matched);
  return static_cast<std::size_t>(settled * static_cast<std::int64_t>(cells) / p.matched);
}

std::string padded(std::string text, std::size_t width) {
  text = fit_width(text, width);
  return text + std::string(width - display_width(text), ' ');
}

}  // namespace

ReplayProgress replay_progress(const boost::json::object& answer) {
  using json_fields::int_or;
  ReplayProgress p;
  p.replay_id = json_fields::string_or(answer, "replay_id");
  p.matched = int_or(answer, "matched");
  p.queued = int_or(answer, "queued");
  p.sent = int_or(answer, "sent");
  p.failed = int_or(answer, "failed");
  p.pending = int_or(answer, "pending");
  const auto* done = answer.if_contains("done");
  p.done = done && done->is_bool() && done->get_bool();
  return p;
}

std::string progress_bar(const ReplayProgress& progress, std::size_t width) {
  const std::string text = figures(progress);
  const std::size_t reserved = widest_figures(progress);
  const std::size_t brackets_and_gap = 3;  // "[", "] "
  if (width < reserved + brackets_and_gap + min_bar_cells) return padded(text, width);
  const std::size_t cells = std::min(max_bar_cells, width - reserved - brackets_and_gap);
  const std::size_t filled = filled_cells(progress, cells);
  return padded("[" + std::string(filled, '#') + std::string(cells - filled, '.') + "] " + text, width);
}

std::string progress_line(const ReplayProgress& p) {
  return "replay " + p.replay_id + ": queued " + std::to_string(p.queued) + "/" + std::to_string(p.matched) + ", sent " +
         std::to_string(p.sent) + ", failed " + std::to_string(p.failed) + ", pending " + std::to_string(p.pending);
}

}  // namespace sunbeam::cli
