// Lets one thread wait for records from several consumers at once.
//
// Why: dispatch polls its urgent consumer, then its tiers' consumer, each
// with a queue of its own. Waiting on one queue (the tiers', 100 ms when they
// were idle or paused by backpressure) left an urgent record that arrived
// meanwhile waiting for that wait to end: ~50 ms on average of the urgent
// latency (bench/NOTES.md). Each consumer rings the bell when its queue goes
// from empty to not empty (Consumer::ring_on_arrival), and the thread waits
// on the bell instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sunbeam::kafka {

class Doorbell {
 public:
  // Any thread; librdkafka's own when a consumer rings it.
  void ring() {
    {
      std::lock_guard lock(mutex_);
      rung_ = true;
    }
    rang_.notify_one();
  }

  // Returns true once the bell has rung since the last wait returned (at
  // once if it already has), false after `timeout` without a ring.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const bool rung = rang_.wait_for(lock, timeout, [this] { return rung_; });
    rung_ = false;
    return rung;
  }

 private:
  std::mutex mutex_;
  std::condition_variable rang_;
  bool rung_ = false;
};

}  // namespace sunbeam::kafka
