// The replay's progress as a person sees it: the bar at several widths and
// values (exactly the width asked, so a redraw leaves nothing behind), and the
// plain lines written when stdout is not a terminal.
#include "engine/cli/progress_bar.h"
#include "engine/cli/text_table.h"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

using namespace sunbeam::cli;

namespace {

ReplayProgress progress(std::int64_t matched, std::int64_t sent, std::int64_t failed) {
  ReplayProgress p;
  p.replay_id = "r-1";
  p.matched = matched;
  p.queued = matched;
  p.sent = sent;
  p.failed = failed;
  p.pending = matched - sent - failed;
  p.done = sent + failed == matched;
  return p;
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

}  // namespace

TEST_CASE("the bar fills with the settled share of what matched") {
  const auto p = progress(214, 100, 4);
  // 40 columns: 27 kept for the figures at their widest ("214/214 sent 214
  // failed 214"), 3 for brackets and gap, 10 cells; 104/214 of 10 is 4.9: 4 filled.
  CHECK(progress_bar(p, 40) == "[####......] 104/214 sent 100 failed 4  ");
  // 80 columns: the bar stops at 50 cells (24 filled) and spaces pad the rest.
  CHECK(progress_bar(p, 80) == "[" + repeat('#', 24) + repeat('.', 26) + "] 104/214 sent 100 failed 4  ");
}

TEST_CASE("the bar keeps its length while the counts grow") {
  std::size_t bracket = 0;
  for (std::int64_t sent = 0; sent <= 214; ++sent) {
    const auto bar = progress_bar(progress(214, sent, 0), 60);
    CAPTURE(bar);
    if (sent == 0) bracket = bar.find(']');
    CHECK(bar.find(']') == bracket);
  }
  CHECK(bracket == 31);  // 60 - 26 ("214/214 sent 214 failed 214" and the gap) - 3
}

TEST_CASE("an empty bar, a full one, and one of nothing to do") {
  CHECK(progress_bar(progress(10, 0, 0), 34) == "[" + repeat('.', 8) + "] 0/10 sent 0 failed 0   ");
  CHECK(progress_bar(progress(10, 7, 3), 33) == "[" + repeat('#', 7) + "] 10/10 sent 7 failed 3  ");
  // 0 matched: nothing to do is all done, and no division by zero.
  CHECK(progress_bar(progress(0, 0, 0), 30) == "[" + repeat('#', 8) + "] 0/0 sent 0 failed 0");
  // More settled than matched (a late count): the bar stops at full.
  CHECK(progress_bar(progress(10, 12, 0), 33) == "[" + repeat('#', 7) + "] 12/10 sent 12 failed 0 ");
}

TEST_CASE("too narrow for a bar: the figures alone, cut to fit") {
  const auto p = progress(214, 100, 4);
  CHECK(progress_bar(p, 34) == "104/214 sent 100 failed 4         ");  // 34 < 27 + 3 + 5
  const auto cut = progress_bar(p, 20);
  CHECK(cut == "104/214 sent 100 fa\u2026");
  CHECK(display_width(cut) == 20);
  CHECK(progress_bar(p, 1) == "\u2026");
  CHECK(progress_bar(p, 0).empty());
}

TEST_CASE("every width from 0 to 200 gives exactly that many columns") {
  for (const auto& p : {progress(214, 100, 4), progress(0, 0, 0), progress(1000000, 999999, 1), progress(3, 0, 0)})
    for (std::size_t width = 0; width <= 200; ++width) {
      CAPTURE(width);
      CHECK(display_width(progress_bar(p, width)) == width);
    }
}

TEST_CASE("plain lines say the replay and every figure") {
  auto p = progress(214, 120, 4);
  CHECK(progress_line(p) == "replay r-1: queued 214/214, sent 120, failed 4, pending 90");
  p.queued = 37;
  CHECK(progress_line(p) == "replay r-1: queued 37/214, sent 120, failed 4, pending 90");
}

TEST_CASE("the API's answer reads into the figures") {
  const auto answer = boost::json::parse(R"({"replay_id": "r-7", "selector": {"event": "e1"}, "created_at": "x",
      "matched": 214, "queued": 200, "sent": 150, "failed": 4, "pending": 60, "done": false})").as_object();
  const auto p = replay_progress(answer);
  CHECK(p.replay_id == "r-7");
  CHECK(p.matched == 214);
  CHECK(p.queued == 200);
  CHECK(p.sent == 150);
  CHECK(p.failed == 4);
  CHECK(p.pending == 60);
  CHECK_FALSE(p.done);
  CHECK(replay_progress(boost::json::parse(R"({"replay_id": "r-8", "matched": 0, "done": true})").as_object()).done);
}
