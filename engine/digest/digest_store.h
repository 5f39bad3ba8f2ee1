// The digest's durable state, one SQLite file per instance
// (<storage>/<kafka.instance_id>-digest.sqlite, engine/storage/sqlite_db.h):
//
//   items     every item read from the `digest` topic, keyed by delivery id
//             (a re-read item is not stored twice), and its fate:
//               pending -> planned (folded into a digest not yet in Kafka)
//                       -> folded  (its digest is in Kafka)
//               pending -> expired | cancelled (a status record is owed until
//                          `recorded`)
//   messages  the digest deliveries a run planned, and whether each is in
//             Kafka yet: a restart produces only those that are not
//   runs      one per date: sending (planned, being produced), then sent,
//             expired or skipped; its digest_run record is owed until `recorded`
//   meta      the first date the schedule has not settled yet
//
// The store is the truth and Kafka is told from it: what is owed to Kafka
// (digests, status records) is written here first, in the same transaction
// as the decision, and marked once Kafka acknowledges it. So a crash loses
// nothing, and repeats at most what was in flight (same ids: dispatch's
// ledger sends a digest once however often it is read).
//
// Thread safety: any thread (the SqliteDb's lock); a plan is one transaction.
#pragma once

#include "engine/core/delivery.h"
#include "engine/core/status_record.h"
#include "engine/digest/digest_builder.h"
#include "engine/storage/sqlite_db.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

// An item as read from Kafka, to be stored.
struct ItemToStore {
  Delivery delivery;
  std::string json;              // the record as read
  std::int64_t arrived_ms = 0;
  bool cancelled = false;        // its event was withdrawn before it arrived
};

// A digest delivery planned by a run.
struct PlannedDigest {
  std::string delivery_id;
  std::string date;
  std::string topic;    // deliveries.<tier>
  std::string account;  // the record's key
  std::string json;     // the serialized Delivery
};

// What a run planned, for its digest_run record.
struct PlanCounts {
  std::int64_t accounts = 0;
  std::int64_t messages = 0;
  std::int64_t items = 0;
  std::int64_t expired = 0;  // items whose own expires_at had passed
};

struct StoredRun {
  DigestRun run;
  bool recorded = false;  // its digest_run record is in Kafka
};

class DigestStore {
 public:
  static Result<std::unique_ptr<DigestStore>> open(std::shared_ptr<SqliteDb> db);

  // Stores the items in one transaction; returns how many were new (an item
  // already stored, whatever its state, is left as it is).
  Result<std::size_t> add(const std::vector<ItemToStore>& items);
  // The pending items of `event_id` end `cancelled`; returns how many.
  Result<std::size_t> cancel_event(std::string_view event_id, std::string_view reason, std::int64_t now_ms);
  std::int64_t count(std::string_view state);

  // Plans the digest of `date` in one transaction: pending items whose own
  // expires_at has passed end `expired`; every other pending item is folded,
  // grouped by account and channel in occurred_at order, into the delivery
  // `build` makes of the group, stored with the topic `topic_for` names for
  // it; the run is written `sending` (replacing an expired or skipped run of
  // that date).
  Result<PlanCounts> plan(const std::string& date, const std::string& trigger, std::int64_t now_ms,
                          const std::function<Delivery(const std::vector<HeldItem>&)>& build,
                          const std::function<std::string(const Delivery&)>& topic_for);
  // Up to `limit` digests of `date` not yet in Kafka.
  std::vector<PlannedDigest> unproduced(std::string_view date, int limit);
  // Kafka has these digests: they, and the items they carry, are folded.
  Result<void> mark_produced(const std::vector<std::string>& delivery_ids, std::int64_t now_ms);
  // Every digest of the run is in Kafka: the run is `sent`, its record owed.
  Result<void> finish_run(std::string_view date, std::int64_t now_ms);

  // The pending items that arrived before `before_ms` end `expired` and the
  // run of `date` is recorded `expired` with their count, in one transaction.
  Result<std::int64_t> expire_missed(const std::string& date, const std::string& trigger, std::int64_t before_ms,
                                     std::string_view reason, std::int64_t now_ms);
  // A run that sends nothing (`skipped`), recorded at once.
  Result<void> record_run(const DigestRun& run);

  std::optional<StoredRun> run(std::string_view date);
  std::vector<std::string> runs_sending();

  // What Kafka is still owed: status records of expired and cancelled items,
  // and digest_run records. Mark each once acknowledged.
  std::vector<StatusRecord> unrecorded_items(int limit);
  Result<void> mark_items_recorded(const std::vector<std::string>& delivery_ids);
  std::vector<DigestRun> unrecorded_runs();
  Result<void> mark_run_recorded(std::string_view date);

  // The first date the schedule has not settled; nullopt on a new store.
  std::optional<std::string> next_date();
  Result<void> set_next_date(std::string_view date);

  // Forgets items and digests settled (and recorded) before `before_ms`.
  Result<void> prune(std::int64_t before_ms);

 private:
  explicit DigestStore(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  // With the lock held: `work` inside BEGIN IMMEDIATE ... COMMIT, rolled back when it fails.
  Result<void> in_transaction(const std::function<Result<void>()>& work);
  // With the lock held: the single count(*) `s` (bound) answers.
  static std::int64_t count_of(SqlStatement& s);
  Result<void> put_run(const DigestRun& run, bool recorded);

  std::shared_ptr<SqliteDb> db_;
  SqlStatement begin_, commit_, rollback_;
  SqlStatement item_exists_, insert_item_, count_event_, cancel_event_, count_state_;
  SqlStatement count_lapsed_, expire_lapsed_, pending_, plan_item_, insert_digest_, put_run_;
  SqlStatement unproduced_, produced_digest_, fold_items_, finish_run_;
  SqlStatement count_before_, expire_before_, get_run_, runs_sending_;
  SqlStatement unrecorded_items_, item_recorded_, unrecorded_runs_, run_recorded_;
  SqlStatement get_meta_, put_meta_, prune_items_, prune_digests_;
};

}  // namespace sunbeam
