// How far dispatch has read each partition, kept in its store, so that a
// record it has never admitted skips the look-ups that only a re-read record
// needs (is it in the sent ledger? in the deferrals?). Those are two reads at
// random in B-trees keyed by delivery id, which outgrow the page cache in a
// large fan-out, for every delivery, when only the records re-read after a
// restart or a rebalance can be found there.
//
// Why skipping is safe: the mark is written before the records it covers are
// admitted, in the same SqliteDb as every row admitting them writes (ledger,
// deferral, cap). SQLite commits in order, so a store that kept any of those
// rows after a crash kept the mark too: a record at or past the mark has no
// rows in this store. A record below it may have, and is looked up as before.
//
// A store made before read marks existed (an upgrade) cannot say what it
// admitted: there a partition without a mark counts as maybe admitted, and its
// first mark is set at least to the partition's end as the consumer first
// fetched it (the earlier version can only have admitted records before that).
//
// Thread safety: dispatch's consumer thread only (the SqliteDb's lock inside).
#pragma once

#include "engine/storage/sqlite_db.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace sunbeam {

class ReadMarks {
 public:
  // `existing_store`: the store's file was there before it was opened (it may
  // be from a version without read marks).
  static Result<std::unique_ptr<ReadMarks>> open(std::shared_ptr<SqliteDb> db, bool existing_store);

  // False when the record at `offset` cannot have been admitted through this store.
  bool maybe_admitted(const std::string& topic, int partition, std::int64_t offset) const;
  // Before admitting records of (topic, partition) up to `last_offset`: the
  // mark moves past them, in the store's open group. `partition_end`: the
  // partition's end as the consumer knows it (nullopt if unknown), which an
  // upgraded store's first mark of a partition must reach (else it sets none
  // yet). An error means the records must not be admitted now (read them again).
  Result<void> advance(const std::string& topic, int partition, std::int64_t last_offset,
                       std::optional<std::int64_t> partition_end);

 private:
  explicit ReadMarks(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::shared_ptr<SqliteDb> db_;
  SqlStatement put_;
  std::map<std::pair<std::string, int>, std::int64_t, std::less<>> next_;  // the offset past the mark
  bool upgraded_ = false;  // made before read marks: a partition without a mark may have been admitted
};

}  // namespace sunbeam
