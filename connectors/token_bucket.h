// A token bucket: `rate` tokens a second, holding at most `burst`; one token
// per send. It starts full, so a quiet connector can send a burst at once,
// and then holds the configured rate. Time comes from an injected Clock, so
// tests drive it without sleeping (the way Envoy's TokenBucketImpl takes a
// TimeSource).
//
// Thread safety: take() from any thread (a mutex; one short critical section).
#pragma once

#include "config/units.h"
#include "engine/core/clock.h"

#include <chrono>
#include <mutex>

namespace sunbeam {

class TokenBucket {
 public:
  TokenBucket(Rate rate, int burst, const Clock& clock);

  // Takes a token and returns zero, or takes none and returns how long until
  // one will be there. An unlimited bucket always gives one.
  std::chrono::nanoseconds take();
  bool unlimited() const { return rate_.unlimited(); }

 private:
  void refill(SystemTime now);

  Rate rate_;
  double capacity_;
  const Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  SystemTime last_;
};

}  // namespace sunbeam
