// Time is injected: roles ask a Clock, tests give them a ManualClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sunbeam {

using SystemTime = std::chrono::system_clock::time_point;

inline std::int64_t unix_ms(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told; thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start) : now_(start.time_since_epoch().count()) {}
  SystemTime now() const override { return SystemTime(SystemTime::duration(now_.load())); }
  void advance(SystemTime::duration d) { now_ += d.count(); }
  void set(SystemTime t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<SystemTime::rep> now_;
};

}  // namespace sunbeam
