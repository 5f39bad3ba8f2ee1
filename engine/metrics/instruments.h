// The three kinds of Prometheus metric a module updates on its hot path:
// Counter (only goes up), Gauge (set, up or down) and Histogram (fixed
// buckets). Each is one child of a family (registry.h), for one set of label
// values; the registry owns it and hands out a reference that stays valid for
// the registry's lifetime, so callers look it up once and keep the pointer.
//
// Thread safety: every method may be called from any thread. Updates are
// lock-free (relaxed atomics: a scrape needs no ordering with other memory).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace sunbeam::metrics {

// C++20 gives std::atomic<double> fetch_add; on x86-64 and AArch64 it is a
// compare-and-swap loop, without a lock.
static_assert(std::atomic<double>::is_always_lock_free, "metrics need lock-free atomic<double>");

class Counter {
 public:
  // `by` must not be negative: a counter that went down reads as a restart.
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations fall in the first bucket whose upper bound is >= the value
// (Prometheus' `le`), or in the implicit +Inf bucket. Counts are kept per
// bucket and made cumulative when read.
class Histogram {
 public:
  // `bounds`: strictly increasing finite upper bounds, shared by a family.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;              // without +Inf
    std::vector<std::uint64_t> cumulative;   // bounds.size() + 1 entries, the last is +Inf
    double sum = 0;
    std::uint64_t count = 0;                 // == cumulative.back()
  };
  // Read while others observe: each number is exact at some instant, but the
  // buckets and the sum are read one after the other, so a scrape racing an
  // observation may count it in the buckets and not yet in the sum. The
  // count is the +Inf bucket, so `_count` and `le="+Inf"` always agree.
  Snapshot snapshot() const;

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_->size() + 1
  std::atomic<double> sum_{0.0};
};

// `count` bounds: start, start*factor, start*factor^2, ... (latency buckets).
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

}  // namespace sunbeam::metrics
