// The dispatch role: consumes `deliveries.<tier>` and `deliveries.urgent`
// (read_committed, one consumer each; the urgent one is polled first), decides
// each delivery's fate and sends it through the routed connector; records
// every attempt and outcome on `status`; matches gateways' receipts.
//
// The path of one delivery (docs/architecture.md, "Dispatch"):
//   admit   (consumer thread) already sent (ledger; looked up for a record the
//           store's read marks say it may have admitted before, and for a replay's
//           or a digest's, which may be produced twice)? expired? in the
//           subscriber's quiet hours (deferred, durably)? over the daily cap
//           (suppressed: cap)? -> the connector's send queue
//   send    (one thread per connector) a token from the bucket, the breaker's
//           leave (else the fallback connector), the most urgent / highest
//           tier delivery first, rendered, handed to the connector
//   settle  (the connector's completion) sent -> ledger; a retryable failure
//           -> deferred for a back-off, durably; a final one -> `failed` and
//           the `dlq` topic
// A delivery's Kafka offset is committed once its outcome record (or its
// durable deferral's record) is acknowledged, in offset order per partition,
// so a crash re-reads what was unfinished: nothing is lost, and the ledger
// keeps re-sends to its in-flight window (dispatch.ledger_batch).
//
// Lifecycle: start() -> threads -> stop() drains sends in flight.
#pragma once

#include "config/config.h"
#include "connectors/registry.h"
#include "engine/core/clock.h"
#include "engine/core/delivery.h"
#include "engine/core/status_record.h"
#include "engine/dispatch/circuit_breaker.h"
#include "engine/dispatch/daily_caps.h"
#include "engine/dispatch/deferral_store.h"
#include "engine/dispatch/offset_tracker.h"
#include "engine/dispatch/read_marks.h"
#include "engine/dispatch/receipt_book.h"
#include "engine/dispatch/send_queue.h"
#include "engine/dispatch/sent_ledger.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/doorbell.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"
#include "engine/metrics/registry.h"
#include "templates/template_set.h"

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace sunbeam {

struct DispatchStats {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed{0};        // final failures (also on dlq)
  std::atomic<std::uint64_t> expired{0};
  std::atomic<std::uint64_t> deferred{0};      // quiet hours
  std::atomic<std::uint64_t> retried{0};       // failures deferred for a retry
  std::atomic<std::uint64_t> capped{0};
  std::atomic<std::uint64_t> skipped_as_sent{0};  // found in the ledger: re-read after a restart, or produced again
  std::atomic<std::uint64_t> receipts{0};      // receipts that settled a delivery
  std::atomic<std::uint64_t> pauses{0};        // times a tier's topic was paused (backpressure)
  std::atomic<std::uint64_t> cancelled{0};     // ended `cancelled` (an operator withdrew the event)
};

// Where this instance's durable state lives: <storage>/<kafka.instance_id>-dispatch.sqlite.
std::filesystem::path dispatch_store_path(const Config& config);

// What dispatch does with one delivery, apart from Kafka: render it and
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

// One connector's state, for operators (GET /v1/connectors).
struct ConnectorState {
  std::string name;
  std::string kind;
  std::string breaker;  // closed | open | half_open
  bool suspended = false;
  std::size_t queued = 0;
  int in_flight = 0;
  std::uint64_t sent = 0;    // since this process started
  std::uint64_t failed = 0;  // final failures, since this process started
};

class DispatchRole {
 public:
  DispatchRole(const Config& config, const TemplateSet& templates, const Connectors& connectors,
               kafka::ClientSettings settings, kafka::Topics topics, const Clock& clock);
  ~DispatchRole();

  // Before start(): export outcomes, send latency and publish-to-send
  // latency (docs/operations.md) to `registry`, and the connectors' breaker
  // and suspension at each scrape.
  void attach_metrics(metrics::Registry& registry);
  Result<void> start();
  void stop();
  // Another process joined one of dispatch's groups as this instance (any thread; /readyz).
  bool fenced() const;
  const DispatchStats& stats() const { return stats_; }
  // Deliveries of `topic` read and not yet finished (what backpressure bounds).
  std::size_t unfinished(const std::string& topic) const { return offsets_.pending(topic); }
  std::vector<ConnectorState> connector_states() const;
  // Deliveries in Kafka not yet read, per partition (any thread; metrics).
  std::vector<kafka::PartitionLag> consumer_lag() const;

  // Operators' orders (engine/control), from any thread; idempotent.
  // Deliveries of a cancelled event that are not yet sent end `cancelled`:
  // queued, deferred, or read later from Kafka.
  void cancel_event(const std::string& event_id);
  // A suspended connector sends nothing; its deliveries wait in its queue.
  // False for an unknown connector. May be called before start().
  bool suspend(const std::string& connector, bool suspended);

  struct Lane;  // one connector's queue, limits and sender thread
  struct Job;   // one delivery on its way

 private:
  void consume_loop();
  // Admits one polled batch of `from`; records of a paused topic go back to Kafka.
  void take_batch(kafka::Consumer& from, std::vector<kafka::Message> batch);
  kafka::Consumer& consumer_for(const std::string& topic);
  void admit(Job job);
  void poll_deferrals();
  void poll_receipts();
  void apply_backpressure();
  void forget_old_rows();  // hourly: cap days no zone is in, sends past dispatch.ledger_retention, receipt days past receipt_retention
  void apply_cancellations();
  bool is_cancelled(const std::string& event_id) const;
  void purge_cancelled(Lane& lane, std::unique_lock<std::mutex>& lock);
  void record_digest_items(const Job& job, const StatusRecord& record);
  void commit_finished();
  void send_loop(Lane& lane);
  void send(Lane& lane, Job job);
  void settle(Lane& lane, Job job, int parts, SendOutcome outcome);
  // Outcomes. Each produces its status record and, once Kafka has it, lets
  // the delivery's origin go (offset finished, or deferral removed).
  void finish(Job job, StatusRecord record, bool keep_deferral = false);
  std::function<void()> let_go_of(const Job& job, bool keep_deferral);
  // A retry is stored as the next attempt; quiet hours keep the attempt.
  enum class Deferred { same_attempt, for_retry };
  void defer(Job job, SystemTime until, std::string reason, std::string record_reason, Deferred kind);
  void fail(Job job, StatusRecord record, const std::string& error);
  void produce_then(const std::string& topic, const std::string& key, std::string value, std::function<void()> then);
  StatusRecord record_for(const Job& job, DeliveryState state, std::string reason) const;
  void count_outcome(const StatusRecord& record);
  // The outcome counters of one connector (or of none), looked up in the
  // registry once each (its with() locks and allocates) and kept: index a
  // DeliveryState, or delivery_state_count for a retry.
  struct OutcomeCounters {
    std::array<std::atomic<metrics::Counter*>, delivery_state_count + 1> by_outcome{};
  };
  void cache_metrics();
  metrics::Histogram* publish_to_send_for(const Delivery& d);
  std::string time_zone_of(const Delivery& d) const;
  Lane* lane_for(Channel channel) const;

  const Config& config_;
  DeliveryRenderer renderer_;
  const Connectors& connectors_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  const Clock& clock_;
  std::shared_ptr<SqliteDb> db_;
  std::unique_ptr<ReceiptBook> receipts_;  // before the ledger: its writer thread writes the book's rows
  std::unique_ptr<SentLedger> ledger_;
  std::unique_ptr<DeferralStore> deferrals_;
  std::unique_ptr<DailyCaps> caps_;
  std::unique_ptr<ReadMarks> marks_;  // consumer thread only
  kafka::Doorbell arrivals_;  // rung by both delivery consumers; outlives them (declared first)
  std::unique_ptr<kafka::Consumer> consumer_;         // deliveries.<tier>
  // deliveries.urgent, in a group of its own: librdkafka hands a consumer's
  // records out in the order it fetched them, so on the tiers' consumer an
  // urgent record would wait behind every bulk record fetched before it
  // (seconds while a fan-out floods in); polled first, it waits for one batch.
  std::unique_ptr<kafka::Consumer> urgent_consumer_;
  std::unique_ptr<kafka::Consumer> receipt_consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  OffsetTracker offsets_;
  std::map<std::string, std::unique_ptr<Lane>, std::less<>> lanes_;
  std::map<Channel, Lane*> routes_;
  std::set<std::string> paused_topics_;
  std::mutex claimed_mutex_;
  std::set<std::string> claimed_deferrals_;  // taken from the store, not yet settled
  mutable std::mutex cancel_mutex_;
  std::set<std::string, std::less<>> cancelled_events_;
  std::vector<std::string> cancels_to_apply_;   // to the deferral store, by the consumer thread
  std::atomic<std::uint64_t> cancel_generation_{0};  // lanes purge their queues when it moves
  std::mutex suspend_mutex_;                 // orders may come before start() builds the lanes
  std::set<std::string, std::less<>> suspended_;
  std::atomic<bool> running_{false};
  std::thread consumer_thread_;
  DispatchStats stats_;
  metrics::CounterFamily* outcomes_ = nullptr;        // {connector, outcome}
  metrics::HistogramFamily* send_latency_ = nullptr;  // {connector}
  metrics::HistogramFamily* publish_to_send_ = nullptr;  // {tier, channel}
  OutcomeCounters unrouted_outcomes_;                    // decided before any connector
  std::vector<metrics::Histogram*> publish_to_send_by_group_;  // [tier index * 2 + channel]
};

}  // namespace sunbeam
