// The dispatch ledger: a durable local record of every delivery id a
// connector has accepted, written as each send is accepted and before the
// delivery's offset is committed. After a crash, dispatch re-reads what was
// not committed and skips what the ledger knows, so a crash duplicates only
// the sends that were in flight (accepted by the gateway, not yet in the
// ledger) and loses nothing.
//
// The ledger is per instance and per disk (a table of the instance's
// SqliteDb): when a partition moves to another instance, that instance does
// not know what this one sent (documented in docs/architecture.md).
//
// Thread safety: any thread (the SqliteDb's lock).
#pragma once

#include "engine/storage/sqlite_db.h"

#include <optional>

namespace sunbeam {

class SentLedger {
 public:
  struct Entry {
    std::int64_t sent_at_ms = 0;
    std::string connector;
    std::string gateway_message_id;
  };

  static Result<std::unique_ptr<SentLedger>> open(std::shared_ptr<SqliteDb> db);

  std::optional<Entry> find(std::string_view delivery_id);
  // The first record of an id stands; recording it again changes nothing.
  Result<void> record(std::string_view delivery_id, const Entry& entry);
  std::int64_t size();

 private:
  explicit SentLedger(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::shared_ptr<SqliteDb> db_;
  SqlStatement find_, insert_, count_;
};

}  // namespace sunbeam
