// The replays' durable record, kept in the status index's SQLite file
// (status_index.h) because selecting what to replay is a query over the
// index's `deliveries` and `dead_letters`:
//   replays       one row per replay: its selector, when, how many matched,
//                 how many are queued and how many could not be;
//   replay_items  one row per re-queued delivery: which failure it took
//                 (`fail_seq`, the delivery's count of failures then), the
//                 attempt it is re-queued as, and whether its produce was
//                 acknowledged (queued 1), is still to do (0), or cannot be
//                 done (-1: its dead letter does not parse, or its tier is
//                 no longer configured).
// A failed delivery is matched when it has a dead letter and no replay item
// holds its current failure: so a replay run twice re-queues nothing twice,
// even before the index has read the first one's records, and a delivery that
// failed again after its replay can be replayed anew. What became of the
// items, the index counts itself as it reads their records (replay_counts).
//
// Thread safety: every method may be called from any thread (the index's
// connections each have a lock).
#pragma once

#include "engine/status/status_index.h"
#include "engine/status/status_query.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sunbeam {

struct ReplayProgress {
  std::string replay_id;
  FailureSelector selector;
  std::int64_t created_at_ms = 0;
  std::int64_t matched = 0;
  std::int64_t queued = 0;   // re-queued (the produce acknowledged)
  std::int64_t sent = 0;     // now sent, delivered or undelivered
  std::int64_t failed = 0;   // failed again, or cancelled, expired, suppressed (or could not be re-queued)
  std::int64_t pending = 0;  // neither yet
  bool done = false;         // sent + failed == matched
};

// One delivery to re-queue.
struct ReplayItem {
  std::string replay_id;
  std::string delivery_id;
  int attempt = 0;            // the attempt it is re-queued as
  std::string delivery_json;  // from its dead letter
};

class ReplayStore {
 public:
  static Result<std::unique_ptr<ReplayStore>> open(StatusIndex& index);

  // How many failed deliveries `selector` matches now.
  Result<std::int64_t> count(const FailureSelector& selector);
  // Records the replay and its items in one transaction; returns how many matched.
  Result<std::int64_t> create(const std::string& replay_id, const FailureSelector& selector, std::int64_t created_at_ms);
  // Items whose produce is still to do, oldest replay first.
  std::vector<ReplayItem> unqueued(std::size_t limit);
  enum class Outcome { queued = 1, refused = -1 };
  Result<void> mark(const std::vector<ReplayItem>& items, Outcome outcome);

  std::optional<ReplayProgress> progress(const std::string& replay_id);
  std::vector<ReplayProgress> recent(std::size_t limit);  // newest first

 private:
  explicit ReplayStore(StatusIndex& index) : index_(index) {}
  Result<void> prepare();

  StatusIndex& index_;
  // writer
  SqlStatement begin_, commit_, rollback_, insert_replay_, set_matched_, changes_, mark_, count_queued_, count_refused_;
  // reader
  SqlStatement replay_row_, unqueued_, recent_;
};

}  // namespace sunbeam
