// A librdkafka producer with its own poll thread, so delivery reports arrive
// without the caller polling. Two modes:
//  - idempotent (acks=all, enable.idempotence): ingest, dispatch's status;
//  - transactional: fanout's consume-transform-produce, where the consumed
//    offsets commit atomically with the produced deliveries (exactly once).
//
// Thread safety: produce/flush from any thread; the transaction calls from
// one thread at a time. Reports run on the poll thread: keep them short.
#pragma once

#include "engine/core/result.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/message.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;

namespace sunbeam::kafka {

class Consumer;

// Called once per produced record with its fate: ok, or the error.
using DeliveryReport = std::function<void(Result<void>)>;

// What produce() does when librdkafka's local queue is full: a dedicated
// worker thread waits; an event-loop thread must not, so it fails and the
// caller answers "busy" (HTTP 429).
enum class QueueFull { wait, fail };

class Producer {
 public:
  enum class Mode { idempotent, transactional };

  static Result<std::unique_ptr<Producer>> create(const ClientSettings& settings, const std::string& client_id,
                                                  Mode mode, const std::string& transactional_id = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  Result<void> produce(const std::string& topic, std::string_view key, std::string_view value,
                       DeliveryReport report = {}, QueueFull when_full = QueueFull::wait);
  // Connects and fetches `topic`'s metadata now, so the first records do not
  // wait for the connection, the metadata and (idempotent producers) the
  // producer id: measured at ~1 s on the first flush otherwise.
  Result<void> warm_up(const std::string& topic, std::chrono::milliseconds timeout);
  // Waits until every queued record is acknowledged or failed.
  Result<void> flush(std::chrono::milliseconds timeout);

  // Transactions (Mode::transactional only). Errors carry a code:
  // "txn_abortable" (abort and redo the batch), "txn_fatal" (recreate the
  // producer: another instance with our transactional.id fenced us).
  Result<void> init_transactions(std::chrono::milliseconds timeout);
  Result<void> begin_transaction();
  // Adds the offsets after `consumed` (per partition) to the transaction, for `consumer`'s group.
  Result<void> send_offsets_to_transaction(const std::vector<Message>& consumed, Consumer& consumer,
                                           std::chrono::milliseconds timeout);
  Result<void> commit_transaction(std::chrono::milliseconds timeout);
  Result<void> abort_transaction(std::chrono::milliseconds timeout);

  rd_kafka_t* handle() const { return rk_; }

 private:
  explicit Producer(rd_kafka_t* rk);
  void poll_loop();

  rd_kafka_t* rk_;
  std::atomic<bool> running_{true};
  std::thread poller_;
};

}  // namespace sunbeam::kafka
