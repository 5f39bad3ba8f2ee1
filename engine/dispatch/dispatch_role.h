// The dispatch role (minimal form; see docs/architecture.md for what the
// delivery issue adds): consumes `deliveries.<tier>` (read_committed), renders
// each delivery for the subscriber's locale and channel, hands it to the
// routed connector, records the outcome on `status`, and commits the batch's
// offsets only once those records are acknowledged by Kafka.
//
// Guarantee: a crash re-reads the uncommitted batch, so a delivery is never
// lost; the SentLedger skips what was already accepted, so only a send in
// flight at the crash (accepted by the gateway, not yet in the ledger) can go
// out twice.
//
// Lifecycle: start() -> its own thread -> stop() finishes the batch in hand.
#pragma once

#include "config/config.h"
#include "connectors/registry.h"
#include "engine/core/clock.h"
#include "engine/core/delivery.h"
#include "engine/core/status_record.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/producer.h"
#include "engine/dispatch/sent_ledger.h"
#include "engine/kafka/topics.h"
#include "templates/template_set.h"

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

namespace sunbeam {

struct DispatchStats {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> expired{0};
  std::atomic<std::uint64_t> skipped_as_sent{0};  // found in the ledger after a restart
};

// Where this instance's ledger lives: <storage>/<kafka.instance_id>-dispatch-ledger.sqlite.
std::filesystem::path ledger_path(const Config& config);

// What dispatch does with one delivery, apart from Kafka: decide, render,
// build the connector's message. Pure, so tests and `sunbeam preview` share it.
class DeliveryRenderer {
 public:
  DeliveryRenderer(const Config& config, const TemplateSet& templates);
  // The message to send, or the error that ends the delivery `failed`
  // (code "template" or "too_long").
  Result<OutboundMessage> render(const Delivery& d) const;

 private:
  const Config& config_;
  const TemplateSet& templates_;
};

class DispatchRole {
 public:
  static constexpr std::size_t deliveries_per_batch = 500;

  DispatchRole(const Config& config, const TemplateSet& templates, const Connectors& connectors,
               kafka::ClientSettings settings, kafka::Topics topics, const Clock& clock);
  ~DispatchRole();

  Result<void> start();
  void stop();
  const DispatchStats& stats() const { return stats_; }

 private:
  void run();
  Result<void> process(const std::vector<kafka::Message>& batch);
  // Starts one delivery; `done` receives its status record (maybe at once).
  void dispatch(const Delivery& d, std::function<void(StatusRecord)> done);

  const Config& config_;
  DeliveryRenderer renderer_;
  const Connectors& connectors_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  const Clock& clock_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<SentLedger> ledger_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  DispatchStats stats_;
};

}  // namespace sunbeam
