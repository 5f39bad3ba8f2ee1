// `sunbeam replay [selectors | --all] [--dry-run] [--yes]`: a client of
// POST /v1/replays and GET /v1/replays/{id}. Counts first (a dry run), asks
// on a terminal, re-queues, then follows the replay to its end: a bar redrawn
// in place on a terminal, plain lines when stdout is a pipe or a file.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/progress_bar.h"
#include "engine/cli/terminal.h"
#include "engine/core/json_fields.h"

#include <boost/json/serialize.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace sunbeam::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto poll_every = 500ms;
// Plain lines: one when the figures change, at most one a second; one every
// few seconds while they do not, so a log shows the command is alive.
constexpr auto line_at_most_every = 1s;
constexpr auto line_at_least_every = 5s;

// Why replay was called wrongly, or nothing when the options make sense.
std::optional<std::string> usage_problem(const ReplayOptions& o) {
  if (o.selector.empty() && !o.all)
    return "say which failed deliveries to replay (--event, --since, --until, --connector, --reason), "
           "or --all for every one";
  if (!o.selector.empty() && o.all) return "--all means every failed delivery: give it without --event, --since, --until, "
                                           "--connector or --reason";
  return std::nullopt;
}

std::string replays_url(const std::string& base) { return base + "/v1/replays"; }

Result<ApiAnswer> post_replay(const std::string& base, const ReplayOptions& o, bool dry_run) {
  return request_api("POST", replays_url(base), "operator",
                     boost::json::serialize(replay_request(o.selector, o.all, dry_run)));
}

// Asks the person at the terminal; without one, --yes is the only way on.
std::optional<Error> confirmation_refused(const ReplayOptions& o, std::int64_t matched) {
  if (o.yes) return std::nullopt;
  if (!stdin_is_terminal())
    return make_error("replay", "no terminal to ask whether to re-queue " + std::to_string(matched) +
                                    " deliveries: pass --yes to replay without asking");
  if (confirm("Re-queue " + std::to_string(matched) + " deliveries?")) return std::nullopt;
  return make_error("replay", "not confirmed: nothing re-queued");
}

// Shows the figures as they come: a bar on a terminal, plain lines elsewhere.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(std::optional<std::size_t> columns) : columns_(columns) {}

  void show(const ReplayProgress& p) {
    const auto now = Clock::now();
    if (columns_) {
      // One column short of the edge: a full line would leave some terminals
      // waiting to wrap, and the next \r would redraw on the line below.
      std::cout << "\r" << progress_bar(p, *columns_ > 1 ? *columns_ - 1 : 0) << std::flush;
      drawn_ = true;
      return;
    }
    if (!line_due(p, now)) return;
    std::cout << progress_line(p) << std::endl;
    last_ = p;
    last_at_ = now;
  }

  // Ends the bar's line, so what follows starts on its own.
  void finish() {
    if (drawn_) std::cout << "\n" << std::flush;
    drawn_ = false;
  }

 private:
  bool line_due(const ReplayProgress& p, Clock::time_point now) const {
    if (!last_) return true;
    const bool changed = !(*last_ == p);
    if (p.done) return changed;  // the last figures, unless just printed
    const auto since = now - last_at_;
    return (changed && since >= line_at_most_every) || since >= line_at_least_every;
  }

  std::optional<std::size_t> columns_;
  bool drawn_ = false;
  std::optional<ReplayProgress> last_;
  Clock::time_point last_at_{};
};

std::string summary(const ReplayProgress& p) {
  return "replay " + p.replay_id + " done: " + std::to_string(p.matched) + " re-queued, " + std::to_string(p.sent) +
         " sent, " + std::to_string(p.failed) + " failed again";
}

// Polls GET /v1/replays/{id} until done or the time-out; --json prints the
// last answer instead of showing progress.
int follow(const std::string& base, const ReplayProgress& started, const ReplayOptions& o) {
  const auto url = replays_url(base) + "/" + url_segment(started.replay_id);
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_seconds);
  const auto where = "; the replay goes on in the engine: follow it with GET " + url;
  ProgressDisplay display(o.json ? std::nullopt : stdout_columns());
  for (;;) {
    auto answer = request_api("GET", url, "operator");
    if (!answer) {
      display.finish();
      return fail(make_error("api", answer.error().message + where));
    }
    const auto progress = replay_progress(answer->body);
    if (!o.json) display.show(progress);
    if (progress.done) {
      display.finish();
      if (o.json) print_api_json(*answer);
      else std::cout << summary(progress) << "\n";
      return exit_ok;
    }
    if (Clock::now() >= deadline) {
      display.finish();
      if (o.json) print_api_json(*answer);
      return fail(make_error("replay", "not done within " + std::to_string(o.timeout_seconds) + " s (" +
                                           progress_line(progress) + ")" + where));
    }
    std::this_thread::sleep_for(poll_every);
  }
}

}  // namespace

int replay(const GlobalOptions& g, const ReplayOptions& o) {
  if (auto problem = usage_problem(o)) {
    report_error("replay: " + *problem);
    return exit_usage;
  }
  const auto base = api_base(g, o.api);
  auto counted = post_replay(base, o, true);
  if (!counted) return fail(counted.error());
  const auto matched = json_fields::int_or(counted->body, "matched");
  if (o.dry_run || matched == 0) {
    if (o.json) print_api_json(*counted);
    else std::cout << matched << " failed deliveries match" << (matched == 0 && !o.dry_run ? ": nothing to replay" : "") << "\n";
    return exit_ok;
  }
  if (!o.json) std::cout << matched << " failed deliveries match (" << describe(o.selector) << ")\n" << std::flush;
  if (auto refused = confirmation_refused(o, matched)) return fail(*refused);

  auto started = post_replay(base, o, false);
  if (!started) return fail(started.error());
  auto progress = replay_progress(started->body);
  if (progress.replay_id.empty())
    return fail(make_error("api", "the API accepted the replay but gave no replay_id"));
  if (!o.json) std::cout << "replay " << progress.replay_id << ": re-queuing " << progress.matched << " deliveries\n" << std::flush;
  return follow(base, progress, o);
}

}  // namespace sunbeam::cli
