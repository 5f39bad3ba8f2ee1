// The status index: a local SQLite file (<storage>/<instance_id>-status.sqlite)
// holding what the `status` and `dlq` topics say, so GET /v1/events/{id},
// GET /v1/failures, replays and the metrics answer in milliseconds for
// millions of deliveries, and a restart resumes where it stopped instead of
// re-reading the topics.
//
// What it stores (schema_version below; any other version is emptied and
// rebuilt from the topics):
//   deliveries      one row per delivery, keyed by (event, account, channel),
//                   which its id is made of: its latest state and the fields of
//                   its latest record; `fail_seq` counts the `failed` records
//                   applied to it (a replay takes one failure, not the row);
//                   `replay_id` the replay that re-queued it last.
//                   Indexed only where state = failed (partial indexes), which
//                   is all the failures query and a replay look at.
//   dead_letters    per failed delivery, its latest dead letter (the delivery JSON).
//   events, event_groups, event_counts, event_reasons
//                   per event: type and time, per (tier, channel) the fan-out
//                   summary's planned/digest counts, the latest-state counts
//                   and the suppression reasons, kept up to date as deliveries
//                   move, so one event's status is four keyed reads.
//   state_counts    deliveries by (state, tier, channel, connector), for metrics.
//   replay_counts   per replay, its deliveries by latest state since it
//                   re-queued them (one that failed and was re-queued by a
//                   later replay stays `failed` in the earlier one's counts).
//   digest_runs     the latest digest_run record per date.
//   positions       per topic partition, the next offset to read; written in
//                   the same transaction as the rows its records produced.
// Kept across a rebuild (not derived from the topics): event_cancels, and the
// replay module's tables (engine/replay/replay_store.h), which read
// `deliveries` and `dead_letters` as documented here.
//
// The rules of the in-memory view it replaced hold: a `sent` after
// `delivered`/`undelivered` is ignored (the receipt came first); a `planned`
// record after the first one is taken only from a replay (reason
// "replay <id>") of a delivery whose latest state is `failed` at an earlier
// attempt, so a stale one never hides a newer outcome.
//
// Thread safety: apply() and mark_cancelled() write through one connection
// (one writer at a time); the queries read through a second connection, so
// in WAL mode they see the last committed batch and never wait for a write.
#pragma once

#include "engine/core/status_record.h"
#include "engine/kafka/message.h"
#include "engine/status/dead_letter.h"
#include "engine/status/event_status.h"
#include "engine/status/status_query.h"
#include "engine/storage/sqlite_db.h"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sunbeam {

class StatusIndex {
 public:
  static constexpr int schema_version = 5;  // 4: deliveries keyed by (event, account, channel); 5: failures indexes cover a page

  // Opens or creates the index; a file of another schema version is emptied.
  static Result<std::unique_ptr<StatusIndex>> open(const std::filesystem::path& file);
  ~StatusIndex();

  // True when this open found no usable index (a new file, or another
  // schema version): the topics are read from their first offsets.
  bool rebuilt() const { return rebuilt_; }
  const std::filesystem::path& file() const { return writer_->file(); }

  using Input = std::variant<StatusTopicRecord, DeadLetter>;
  // Applies `inputs` in order and stores `positions` (next offsets), all in one transaction.
  Result<void> apply(const std::vector<Input>& inputs, const std::vector<kafka::PartitionOffset>& positions = {});
  // The next offset to read per topic partition, as last stored.
  std::vector<kafka::PartitionOffset> positions() const;
  // Remembers that an operator cancelled the event (the first time is kept).
  Result<void> mark_cancelled(const std::string& event_id, std::int64_t time_ms);

  std::optional<EventStatus> event(const std::string& event_id) const;
  // Newest first.
  std::vector<EventSummary> recent_events(std::size_t limit) const;
  FailurePage failures(const FailureSelector& selector, std::size_t limit) const;
  std::vector<DeliveryCount> delivery_counts() const;
  std::vector<DigestRun> digest_runs(std::size_t limit) const;  // newest first
  std::optional<DigestRun> digest_run(const std::string& date) const;
  // The deliveries a replay re-queued, by state (as replay_counts above):
  // only those whose `planned` record (or the new attempt's outcome) was read.
  std::array<std::int64_t, delivery_state_count> replay_states(const std::string& replay_id) const;

  // The two connections, for the replay store's tables in the same file:
  // write through `writer()`, read through `reader()`, each under its lock().
  SqliteDb& writer() { return *writer_; }
  SqliteDb& reader() { return *reader_; }

 private:
  struct Statements;
  struct Batch;
  StatusIndex(std::shared_ptr<SqliteDb> writer, std::shared_ptr<SqliteDb> reader, bool rebuilt);
  Result<void> prepare();
  Result<void> apply(const StatusRecord& record, Batch& batch);
  Result<void> apply(const FanoutSummary& summary);
  Result<void> apply(const DigestRun& run);
  Result<void> apply(const DeadLetter& letter);
  Result<void> flush(Batch& batch);
  std::optional<EventStatus> load_event(const std::string& event_id) const;  // reader lock held

  std::shared_ptr<SqliteDb> writer_;
  std::shared_ptr<SqliteDb> reader_;
  std::unique_ptr<Statements> s_;
  bool rebuilt_;
};

}  // namespace sunbeam
