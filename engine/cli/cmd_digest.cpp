// `sunbeam digest --now [--date YYYY-MM-DD] [--wait SECONDS]`: a client of
// POST /v1/digests and GET /v1/digests/{date}. Asks for the pre-market digest
// now, then waits (bounded) until a run for the date is recorded and prints it.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/core/json_fields.h"

#include <boost/json/serialize.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using json_fields::int_or;
using json_fields::string_or;

constexpr auto poll_every = 500ms;

// "digest 2026-11-25 (now): 812 accounts, 1020 messages, 2403 items", with
// the state when it is not `sent` (skipped on a holiday, expired after the cut-off).
std::string describe_run(const json::object& run) {
  std::string out = "digest " + string_or(run, "date") + " (" + string_or(run, "trigger") + "): " +
                    std::to_string(int_or(run, "accounts")) + " accounts, " + std::to_string(int_or(run, "messages")) +
                    " messages, " + std::to_string(int_or(run, "items")) + " items";
  if (const auto expired = int_or(run, "expired"); expired > 0) out += ", " + std::to_string(expired) + " expired";
  if (const auto state = string_or(run, "state"); !state.empty() && state != "sent") out += "; " + state;
  return out;
}

// The run recorded for `date`, polled until it is there or `wait` has passed
// (404 means not yet); nullopt on a time-out.
Result<std::optional<ApiAnswer>> wait_for_run(const std::string& base, const std::string& date, std::chrono::seconds wait) {
  const auto url = base + "/v1/digests/" + url_segment(date);
  const auto deadline = Clock::now() + wait;
  for (;;) {
    auto answer = call_api("GET", url);
    if (!answer) return answer.error();
    if (answer->status == 200) return std::optional<ApiAnswer>(std::move(*answer));
    const bool not_yet = answer->status == 404 || answer->status == 503;  // 503: the status index is loading
    if (!not_yet) return make_error("api", api_error_message(*answer, url, "viewer"));
    if (Clock::now() >= deadline) return std::optional<ApiAnswer>();
    std::this_thread::sleep_for(poll_every);
  }
}

}  // namespace

int digest(const GlobalOptions& g, const DigestOptions& o) {
  if (!o.now) {
    report_error("digest: --now is required: the digest is sent at schedule.time on trading days by itself; "
                 "`sunbeam digest --now` sends it now");
    return exit_usage;
  }
  const auto base = api_base(g, o.api);
  json::object body;
  if (!o.date.empty()) body["date"] = o.date;
  auto requested = request_api("POST", base + "/v1/digests", "operator", json::serialize(body));
  if (!requested) return fail(requested.error());
  const auto date = string_or(requested->body, "date", o.date);
  if (o.wait_seconds <= 0) {
    if (o.json) print_api_json(*requested);
    else std::cout << "digest " << date << " requested\n";
    return exit_ok;
  }
  auto run = wait_for_run(base, date, std::chrono::seconds(o.wait_seconds));
  if (!run) return fail(run.error());
  if (!*run)
    return fail(make_error("digest", "the digest for " + date + " was requested, but no run was recorded within " +
                                         std::to_string(o.wait_seconds) + " s; see GET " + base + "/v1/digests/" + date));
  if (o.json) print_api_json(**run);
  else std::cout << describe_run((*run)->body) << "\n";
  return exit_ok;
}

}  // namespace sunbeam::cli
