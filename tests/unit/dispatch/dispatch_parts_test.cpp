// The small parts dispatch is made of: who goes first, when to retry, the
// breaker, and which offsets may be committed.
#include "engine/dispatch/circuit_breaker.h"
#include "engine/dispatch/offset_tracker.h"
#include "engine/dispatch/retry_schedule.h"
#include "engine/dispatch/send_queue.h"

#include <doctest/doctest.h>

#include <string>

using namespace sunbeam;
using namespace std::chrono_literals;

TEST_CASE("urgent deliveries go first, then higher tiers, then first come") {
  SendQueue<std::string> q;
  q.push({false, 2}, "basic-1");
  q.push({false, 0}, "advisor-1");
  q.push({true, 2}, "urgent-basic");
  q.push({false, 2}, "basic-2");
  q.push({false, 1}, "research-1");
  q.push({true, 0}, "urgent-advisor");
  q.push({false, 0}, "advisor-2");
  std::vector<std::string> order;
  while (auto item = q.pop()) order.push_back(*item);
  CHECK(order == std::vector<std::string>{"urgent-advisor", "urgent-basic", "advisor-1", "advisor-2", "research-1",
                                          "basic-1", "basic-2"});
  CHECK(q.empty());
}

TEST_CASE("taking items out of the send queue keeps the others in their order") {
  SendQueue<std::string> q;
  q.push({false, 1}, "research-x");
  q.push({false, 0}, "advisor-1");
  q.push({true, 0}, "urgent-x");
  q.push({false, 0}, "advisor-x");
  q.push({false, 0}, "advisor-2");
  q.push({false, 1}, "research-1");
  const auto taken = q.take_if([](const std::string& s) { return s.ends_with("-x"); });
  CHECK(taken == std::vector<std::string>{"urgent-x", "advisor-x", "research-x"});
  CHECK(q.size() == 3);
  q.push({false, 0}, "advisor-3");
  std::vector<std::string> order;
  while (auto item = q.pop()) order.push_back(*item);
  CHECK(order == std::vector<std::string>{"advisor-1", "advisor-2", "advisor-3", "research-1"});
  CHECK(q.empty());
  CHECK_FALSE(q.pop());
}

TEST_CASE("back-off doubles per attempt, is jittered into the step's second half, and stops") {
  RetryPolicy p;
  p.max_attempts = 5;
  p.initial_backoff = 1s;
  p.max_backoff = 5s;
  p.max_age = 1h;
  CHECK(next_retry(p, 1, 0s, 0.0) == 500ms);   // step 1 s, low end
  CHECK(next_retry(p, 1, 0s, 0.999) > 990ms);  // high end, below the step
  CHECK(next_retry(p, 2, 0s, 0.0) == 1s);      // step 2 s
  CHECK(next_retry(p, 3, 0s, 0.0) == 2s);      // step 4 s
  CHECK(next_retry(p, 4, 0s, 0.0) == 2500ms);  // capped at max_backoff 5 s
  CHECK_FALSE(next_retry(p, 5, 0s, 0.0));      // the fifth attempt was the last
  p.max_age = 10s;
  CHECK(next_retry(p, 2, 8s, 0.0) == 1s);
  CHECK_FALSE(next_retry(p, 2, 9500ms, 0.0));  // the retry would come after max_age
}

TEST_CASE("the breaker opens after consecutive failures, lets one probe through after the cool-down") {
  ManualClock clock(SystemTime(1000h));
  CircuitBreaker b({3, 30s}, clock);
  CHECK(b.allow());
  b.on_failure();
  b.on_failure();
  b.on_success();  // a success in between resets the count
  b.on_failure();
  b.on_failure();
  CHECK(b.state() == CircuitBreaker::State::closed);
  b.on_failure();
  CHECK(b.state() == CircuitBreaker::State::open);
  CHECK_FALSE(b.allow());
  clock.advance(29s);
  CHECK_FALSE(b.allow());
  clock.advance(1s);
  CHECK(b.allow());        // the probe
  CHECK_FALSE(b.allow());  // only one
  CHECK(b.state() == CircuitBreaker::State::half_open);
  b.on_failure();          // the probe failed: open again, for another cool-down
  CHECK(b.state() == CircuitBreaker::State::open);
  CHECK_FALSE(b.allow());
  clock.advance(30s);
  CHECK(b.allow());
  b.on_success();
  CHECK(b.state() == CircuitBreaker::State::closed);
  CHECK(b.allow());
  CHECK(b.allow());
}

TEST_CASE("offsets are committed up to the first unfinished record of each partition") {
  OffsetTracker t;
  for (int o = 10; o < 15; ++o) t.track("d.basic", 0, o);
  t.track("d.advisor", 1, 7);
  CHECK(t.pending() == 6);
  CHECK(t.pending("d.basic") == 5);
  CHECK(t.take_commits().empty());

  t.finish("d.basic", 0, 11);  // out of order: nothing to commit yet
  t.finish("d.basic", 0, 12);
  CHECK(t.take_commits().empty());
  t.finish("d.basic", 0, 10);
  auto c = t.take_commits();
  REQUIRE(c.size() == 1);
  CHECK(c[0].topic == "d.basic");
  CHECK(c[0].offset == 13);  // the next to read
  CHECK(t.take_commits().empty());  // reported once

  t.finish("d.basic", 0, 12);  // a second finish changes nothing
  t.finish("d.advisor", 1, 7);
  t.finish("d.basic", 0, 14);
  CHECK(t.take_commits().size() == 1);  // advisor only: 13 is still open
  t.finish("d.basic", 0, 13);
  c = t.take_commits();
  REQUIRE(c.size() == 1);
  CHECK(c[0].offset == 15);
  CHECK(t.pending() == 0);
}
