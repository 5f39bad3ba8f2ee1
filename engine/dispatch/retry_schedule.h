// When to try a failed delivery again (issue 3 item 5): exponential back-off
// from `initial_backoff`, doubling per attempt up to `max_backoff`, with
// "equal jitter" (a random point in the second half of the step, as AWS's
// architecture note on back-off describes) so a gateway that came back is not
// hit by every delivery at the same instant. No retry once `max_attempts` were
// made or when the next try would come after `max_age` since the first.
#pragma once

#include "config/config.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace sunbeam {

// `attempt` is the attempt that just failed (1-based), `age` the time since
// the first attempt, `jitter` a uniform random number in [0, 1).
inline std::optional<Duration> next_retry(const RetryPolicy& policy, int attempt, Duration age, double jitter) {
  if (attempt >= policy.max_attempts) return std::nullopt;
  const double step = std::min(double(policy.max_backoff.count()),
                               double(policy.initial_backoff.count()) * std::ldexp(1.0, std::min(attempt - 1, 40)));
  const auto delay = Duration(Duration::rep(step * (0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0))));
  if (age + delay > policy.max_age) return std::nullopt;
  return delay;
}

}  // namespace sunbeam
