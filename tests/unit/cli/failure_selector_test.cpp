// The selector `failures` and `replay` share, as GET /v1/failures's query and
// as POST /v1/replays's body.
#include "engine/cli/failure_selector.h"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

using namespace sunbeam::cli;

TEST_CASE("no selector: the bare route, and an empty selector") {
  const FailureSelector none;
  CHECK(none.empty());
  CHECK(failures_url("http://127.0.0.1:8080", none, std::nullopt) == "http://127.0.0.1:8080/v1/failures");
  CHECK(failures_url("http://h:1", none, 50) == "http://h:1/v1/failures?limit=50");
  CHECK(selector_json(none).empty());
  CHECK(describe(none) == "every failed delivery");
}

TEST_CASE("each field given goes into the query, percent-encoded, in the API's order") {
  FailureSelector s;
  s.reason = "http 400";
  s.since = "2026-11-25T08:00:00+08:00";
  s.event = "ipo:600519.SH&x";
  CHECK_FALSE(s.empty());
  // An offset's '+' must not reach the server as a space; ':' and '&' must not split the query.
  CHECK(failures_url("http://h:1", s, 10) ==
        "http://h:1/v1/failures?event=ipo%3A600519.SH%26x&since=2026-11-25T08%3A00%3A00%2B08%3A00&reason=http%20400&limit=10");
  FailureSelector all_fields{"e1", "2h", "30m", "gateway", "timeout"};
  CHECK(failures_url("http://h:1", all_fields, std::nullopt) ==
        "http://h:1/v1/failures?event=e1&since=2h&until=30m&connector=gateway&reason=timeout");
}

TEST_CASE("the JSON selector holds only the fields given") {
  FailureSelector s;
  s.connector = "gateway";
  s.until = "1d";
  CHECK(boost::json::serialize(selector_json(s)) == R"({"until":"1d","connector":"gateway"})");
  CHECK(describe(s) == "until 1d, connector gateway");
}

TEST_CASE("the replay body: selector, dry_run, and all only when meant") {
  FailureSelector s;
  s.event = "e1";
  CHECK(boost::json::serialize(replay_request(s, false, true)) == R"({"selector":{"event":"e1"},"dry_run":true})");
  CHECK(boost::json::serialize(replay_request(FailureSelector{}, true, false)) == R"({"selector":{"all":true},"dry_run":false})");
}
