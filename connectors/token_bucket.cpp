#include "connectors/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace sunbeam {

TokenBucket::TokenBucket(Rate rate, int burst, const Clock& clock)
    : rate_(rate), capacity_(std::max(1, burst)), clock_(clock), tokens_(capacity_), last_(clock.now()) {}

void TokenBucket::refill(SystemTime now) {
  if (now <= last_) return;  // a clock that stepped back adds nothing
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed * rate_.per_second());
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::take() {
  if (rate_.unlimited()) return std::chrono::nanoseconds::zero();
  std::lock_guard lock(mutex_);
  refill(clock_.now());
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::chrono::nanoseconds::zero();
  }
  const double seconds = (1.0 - tokens_) / rate_.per_second();
  return std::chrono::nanoseconds(std::max<long long>(1, std::llround(std::ceil(seconds * 1e9))));
}

}  // namespace sunbeam
