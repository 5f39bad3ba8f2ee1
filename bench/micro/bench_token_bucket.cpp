// The connectors' token bucket (connectors/token_bucket.h): take() on a
// bucket that always has tokens (the rate is so high that every call gets
// one), so what is measured is the cost of asking, with the system clock, by
// one thread and by two threads contending for the same bucket (as a
// connector's send threads do). Baseline: reading the same clock under an
// uncontended or equally contended std::mutex, the floor of any locked bucket.
#include "connectors/token_bucket.h"
#include "engine/core/clock.h"

#include <benchmark/benchmark.h>

#include <mutex>

namespace sunbeam::bench {
namespace {

const SystemClock clock;

void TokenBucketTake(benchmark::State& state) {
  static TokenBucket bucket(Rate(1e12), 1'000'000, clock);  // shared by the threads
  std::int64_t waits = 0;
  for (auto _ : state) {
    const auto wait = bucket.take();
    waits += wait.count() != 0;
    benchmark::DoNotOptimize(wait);
  }
  if (waits) state.SkipWithError("the bucket ran dry: the measurement is of waits, not takes");
  state.SetItemsProcessed(state.iterations());
}

// Baseline: the clock read under a mutex, without the bucket's arithmetic.
void ClockUnderMutex(benchmark::State& state) {
  static std::mutex mutex;
  for (auto _ : state) {
    std::lock_guard lock(mutex);
    auto now = clock.now();
    benchmark::DoNotOptimize(now);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(TokenBucketTake)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(ClockUnderMutex)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace sunbeam::bench
