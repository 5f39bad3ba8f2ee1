// The status view: reads the whole `status` topic (no consumer group, from
// the first offset) and keeps, in memory, every event's progress and every
// delivery's latest state. It serves GET /v1/events/{id}, `sunbeam status`
// and the demo's wait. Rebuilt from Kafka at each start; the operations issue
// replaces it with a durable index for millions of records.
//
// Thread safety: one reader thread applies records; queries take a lock.
#pragma once

#include "config/config.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/topics.h"
#include "engine/status/event_status.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace sunbeam {

class StatusView {
 public:
  StatusView(const Config& config, kafka::ClientSettings settings, kafka::Topics topics);
  ~StatusView();

  Result<void> start();
  void stop();

  std::optional<EventStatus> event(const std::string& event_id) const;
  // True once the reader has reached the end of every partition at least once.
  bool caught_up() const { return caught_up_; }
  // Applies one record (the reader does this; tests may too).
  void apply(const StatusTopicRecord& record);

 private:
  struct DeliveryKey {
    std::uint64_t hi, lo;
    bool operator==(const DeliveryKey&) const = default;
  };
  struct DeliveryKeyHash {
    std::size_t operator()(const DeliveryKey& k) const { return k.hi ^ (k.lo * 0x9e3779b97f4a7c15ull); }
  };
  static DeliveryKey key_of(const std::string& delivery_id);
  void run();

  const Config& config_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  std::unique_ptr<kafka::Consumer> consumer_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, EventStatusBuilder> events_;
  std::unordered_map<DeliveryKey, DeliveryState, DeliveryKeyHash> deliveries_;
  std::atomic<bool> caught_up_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sunbeam
