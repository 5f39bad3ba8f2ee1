// A circuit breaker per connector (issue 3 item 5), in the shape of Envoy's
// outlier detection and the classic closed / open / half-open machine:
// `failures` consecutive connector-level failures (5xx, 429, time-outs,
// broken connections; not a bad number or a refused message, which say the
// gateway works) open it; while open, routing uses the fallback connector, or
// deliveries wait; after `cool_down` one probe is let through (half-open), and
// its success closes the breaker, its failure opens it again.
//
// Thread safety: any thread (a mutex); time from an injected Clock.
#pragma once

#include "config/config.h"
#include "engine/core/clock.h"

#include <mutex>
#include <string_view>

namespace sunbeam {

class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };

  CircuitBreaker(BreakerConfig settings, const Clock& clock) : settings_(settings), clock_(clock) {}

  // May a send start now? In half-open, only the one probe may.
  bool allow() {
    std::lock_guard lock(mutex_);
    if (state_ == State::open && clock_.now() - opened_at_ >= settings_.cool_down) {
      state_ = State::half_open;
      probe_out_ = false;
    }
    if (state_ == State::closed) return true;
    if (state_ == State::half_open && !probe_out_) return probe_out_ = true;
    return false;
  }
  void on_success() {
    std::lock_guard lock(mutex_);
    consecutive_ = 0;
    state_ = State::closed;
  }
  // A failure that blames the connector (FailureClass::connector or ::session).
  void on_failure() {
    std::lock_guard lock(mutex_);
    ++consecutive_;
    if (state_ == State::half_open || (state_ == State::closed && consecutive_ >= settings_.failures)) {
      state_ = State::open;
      opened_at_ = clock_.now();
    }
  }
  State state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  BreakerConfig settings_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  State state_ = State::closed;
  int consecutive_ = 0;
  bool probe_out_ = false;
  SystemTime opened_at_{};
};

inline std::string_view to_string(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::closed: return "closed";
    case CircuitBreaker::State::open: return "open";
    case CircuitBreaker::State::half_open: return "half_open";
  }
  return "closed";
}

}  // namespace sunbeam
