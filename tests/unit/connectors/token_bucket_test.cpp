#include "connectors/token_bucket.h"

#include <doctest/doctest.h>

using namespace sunbeam;
using namespace std::chrono_literals;

namespace {
const SystemTime t0 = SystemTime(std::chrono::seconds(1'800'000'000));
}

TEST_CASE("a full bucket gives its burst at once, then one token per 1/rate") {
  ManualClock clock(t0);
  TokenBucket bucket(Rate(100), 10, clock);
  for (int i = 0; i < 10; ++i) CHECK(bucket.take() == 0ns);
  const auto wait = bucket.take();
  CHECK(wait == 10ms);
  clock.advance(5ms);
  CHECK(bucket.take() == 5ms);
  clock.advance(5ms);
  CHECK(bucket.take() == 0ns);
}

TEST_CASE("a long pause refills only up to the burst") {
  ManualClock clock(t0);
  TokenBucket bucket(Rate(100), 10, clock);
  for (int i = 0; i < 10; ++i) bucket.take();
  clock.advance(1h);
  int taken = 0;
  while (bucket.take() == 0ns) ++taken;
  CHECK(taken == 10);
}

TEST_CASE("sustained, the rate holds exactly") {
  ManualClock clock(t0);
  TokenBucket bucket(Rate(250), 5, clock);  // 4 ms a token
  const auto start = clock.now();
  for (int sent = 0; sent < 1005;) {
    if (auto wait = bucket.take(); wait > 0ns) clock.advance(wait);
    else ++sent;
  }
  // 5 from the burst, then 1000 at 250/s: 4 s.
  CHECK(clock.now() - start == 4s);
}

TEST_CASE("unlimited never waits; a clock stepping back adds nothing") {
  ManualClock clock(t0);
  TokenBucket free(Rate(), 1, clock);
  for (int i = 0; i < 1000; ++i) CHECK(free.take() == 0ns);
  TokenBucket bucket(Rate(1), 1, clock);
  CHECK(bucket.take() == 0ns);
  clock.set(t0 - 1h);
  CHECK(bucket.take() > 0ns);
}
