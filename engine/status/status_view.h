// The status view: keeps the status index (status_index.h, a local SQLite
// file) up to date from the `status` and `dlq` topics, and answers from it:
// GET /v1/events and /v1/events/{id}, failures, digest runs, the metrics'
// counts, `sunbeam status`, and the replays' selection.
//
// It reads every partition of both topics outside any consumer group, from
// the offsets stored in the index (the same transaction as the rows they
// produced), so a restart resumes where it stopped; with no usable index
// file it reads from the beginning and rebuilds it.
//
// Lifecycle: open() (or start(), which opens) before anything else; start()
// runs the reader thread, stop() joins it.
// Thread safety: one reader thread applies records; queries and
// mark_cancelled() may come from any thread.
#pragma once

#include "config/config.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/topics.h"
#include "engine/status/event_status.h"
#include "engine/status/status_index.h"
#include "engine/status/status_query.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

namespace sunbeam {

class StatusView {
 public:
  StatusView(const Config& config, kafka::ClientSettings settings, kafka::Topics topics);
  ~StatusView();

  // <config.storage>/<kafka.instance_id>-status.sqlite
  static std::filesystem::path index_file(const Config& config);

  // Opens the index without reading Kafka (tests and tools apply records
  // themselves); idempotent.
  Result<void> open();
  Result<void> start();
  void stop();

  // True once the reader has reached the end of every partition at least once
  // since start(); until then answers may be behind (the API says `loading`).
  bool caught_up() const { return caught_up_; }
  // Applies one record in its own transaction (the reader batches; tests use
  // this, and it opens the index if needed: call open() first where threads share the view).
  void apply(const StatusTopicRecord& record);
  void apply(const DeadLetter& letter);

  // An operator's cancel order for the event, for `cancelled` in recent_events();
  // idempotent (the first time is kept), so every cancel order read at start may be passed.
  Result<void> mark_cancelled(const std::string& event_id, std::int64_t time_ms);

  // The queries (status_index.h); empty answers before open().
  std::optional<EventStatus> event(const std::string& event_id) const;
  std::vector<EventSummary> recent_events(std::size_t limit) const;
  FailurePage failures(const FailureSelector& selector, std::size_t limit) const;
  std::vector<DeliveryCount> delivery_counts() const;
  std::vector<DigestRun> digest_runs(std::size_t limit) const;
  std::optional<DigestRun> digest_run(const std::string& date) const;

  // The index itself (null before open()): the replay service keeps its tables there.
  StatusIndex* index() { return index_.get(); }

 private:
  void run();
  void apply_one(StatusIndex::Input input);

  const Config& config_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  std::unique_ptr<StatusIndex> index_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::atomic<bool> caught_up_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sunbeam
