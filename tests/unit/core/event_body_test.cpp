#include "engine/core/event.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

TEST_CASE("a single object, even pretty-printed over lines, is one event") {
  auto s = split_event_body("{\n  \"id\": \"a\",\n  \"type\": \"notice\"\n}\n");
  CHECK_FALSE(s.batch);
  REQUIRE(s.items.size() == 1);
  CHECK(s.items[0].value);
}

TEST_CASE("an array is a batch of events") {
  auto s = split_event_body(R"([{"id":"a"},{"id":"b"},3])");
  CHECK(s.batch);
  REQUIRE(s.items.size() == 3);
  CHECK(s.items[2].value->is_int64());  // rejected later as not_an_object
}

TEST_CASE("NDJSON: one event a line; a malformed line does not hide the others") {
  auto s = split_event_body("{\"id\":\"a\"}\n{broken\n\n{\"id\":\"c\"}\n");
  CHECK(s.batch);
  REQUIRE(s.items.size() == 3);
  CHECK(s.items[0].value);
  REQUIRE(s.items[1].error);
  CHECK(s.items[1].error->code == "malformed_json");
  CHECK(s.items[1].error->message.find("line 2") != std::string::npos);
  CHECK(s.items[2].value);
}

TEST_CASE("an empty body is an error, not zero events") {
  auto s = split_event_body("  \n");
  REQUIRE(s.items.size() == 1);
  CHECK(s.items[0].error);
}
