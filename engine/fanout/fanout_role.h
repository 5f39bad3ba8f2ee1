// The fanout role: consumes `events`, plans each event's deliveries with the
// AudiencePlanner, and produces them to `deliveries.<tier>` (keyed by
// account) or `digest`, with suppressed records and the fan-out summary on
// `status`.
//
// Exactly once: each batch of events is one Kafka transaction that carries
// the deliveries, the records AND the consumer offsets
// (send_offsets_to_transaction). A crash at any moment aborts the open
// transaction, which downstream read_committed consumers never see; the
// restarted instance (same transactional.id, from kafka.instance_id) fences
// its predecessor and redoes the batch. Delivery ids are deterministic, so
// even a re-fan-out by another path is recognisable downstream.
//
// Lifecycle: start() -> runs on its own thread -> stop() (aborts an open
// transaction: its events are fanned out again on the next start).
#pragma once

#include "config/config.h"
#include "engine/core/clock.h"
#include "engine/directory/directory.h"
#include "engine/fanout/audience_planner.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"

#include <atomic>
#include <memory>
#include <thread>

namespace sunbeam {

struct FanoutStats {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> deliveries{0};
  std::atomic<std::uint64_t> aborted_batches{0};
};

class FanoutRole {
 public:
  FanoutRole(const Config& config, const Directory& directory, kafka::ClientSettings settings, kafka::Topics topics,
             const Clock& clock);
  ~FanoutRole();

  // Events in Kafka not yet fanned out, per partition (any thread; metrics).
  std::vector<kafka::PartitionLag> consumer_lag() const { return consumer_ ? consumer_->lag() : std::vector<kafka::PartitionLag>{}; }
  Result<void> start();
  void stop();
  // Another process joined the fanout group as this instance (any thread; /readyz).
  bool fenced() const { return consumer_ && consumer_->fenced(); }
  const FanoutStats& stats() const { return stats_; }

 private:
  Result<void> connect();
  void run();
  Result<void> process(const std::vector<kafka::Message>& batch);
  void fan_out(const kafka::Message& message);

  const Config& config_;
  AudiencePlanner planner_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  const Clock& clock_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  FanoutStats stats_;
};

}  // namespace sunbeam
