// Ingest: validates published events and makes them durable on `events`
// (idempotent producer, acks=all) before anyone is told "accepted".
//
// Idempotency by event id: the same id with the same body (compared in a
// canonical form, so key order does not matter) is answered `duplicate`; with
// another body `conflict` (HTTP 409). Bodies are compared as the normalised
// event (keys sorted, the type's default priority filled in). The index of known ids is rebuilt at
// start by reading the whole `events` topic, so it holds across restarts for
// as long as the topic retains events (kafka retention; docs/operations.md).
// Two ingest instances racing on the same new id may both accept it; fanout's
// deterministic delivery ids make the second fan-out recognisable downstream.
//
// Thread safety: submit() from any thread; `done` runs on a Kafka thread
// or the caller's, exactly once.
#pragma once

#include "config/config.h"
#include "engine/core/event.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"

#include <boost/json/object.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sunbeam {

enum class IngestOutcome { accepted, duplicate, rejected, conflict, unavailable };
std::string_view to_string(IngestOutcome o);

struct IngestResult {
  std::string id;                 // empty when the event had no readable id
  IngestOutcome outcome = IngestOutcome::rejected;
  std::optional<Error> error;     // for rejected, conflict, unavailable
  boost::json::object to_json() const;
};

struct IngestReply {
  bool batch = false;
  std::vector<IngestResult> results;
  // 202 when something was accepted or a duplicate; else the first error's
  // status: 400 (invalid), 413 (too large), 409 (conflict), 503 (Kafka down).
  unsigned http_status() const;
  std::string body() const;
};

class Ingest {
 public:
  Ingest(const Config& config, kafka::Producer& producer, kafka::Topics topics);

  // Reads `events` from the beginning to learn the ids already published.
  Result<std::size_t> rebuild_index(const kafka::ClientSettings& settings);

  void submit(std::string_view body, std::function<void(IngestReply)> done);
  // Whether an event with this id was accepted (durably) by any ingest.
  bool published(const std::string& event_id);

 private:
  struct Known {
    std::string body_hash;
    bool durable = false;
    std::vector<std::function<void(IngestOutcome)>> waiters;  // same body, arrived while pending
  };
  using ResultSlot = std::function<void(IngestResult)>;
  void submit_one(const BodyItem& item, ResultSlot slot);
  void finish_produce(const std::string& id, const std::string& hash, Result<void> produced);

  const Config& config_;
  kafka::Producer& producer_;
  kafka::Topics topics_;
  std::mutex mutex_;
  std::unordered_map<std::string, Known> known_;
  std::atomic<int> unacknowledged_{0};  // produced, Kafka's answer not yet in
};

}  // namespace sunbeam
