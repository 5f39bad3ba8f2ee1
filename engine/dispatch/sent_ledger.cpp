#include "engine/dispatch/sent_ledger.h"

namespace sunbeam {

Result<std::unique_ptr<SentLedger>> SentLedger::open(std::shared_ptr<SqliteDb> db) {
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS sent ("
                        "  delivery_id TEXT PRIMARY KEY,"
                        "  sent_at_ms INTEGER NOT NULL,"
                        "  connector TEXT NOT NULL,"
                        "  gateway_message_id TEXT NOT NULL"
                        ") WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<SentLedger> out(new SentLedger(db));
  if (auto r = db->prepare_all({
          {&out->find_, "SELECT sent_at_ms, connector, gateway_message_id FROM sent WHERE delivery_id = ?"},
          {&out->insert_, "INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?)"},
          {&out->count_, "SELECT count(*) FROM sent"},
      });
      !r)
    return r.error();
  return out;
}

std::optional<SentLedger::Entry> SentLedger::find(std::string_view delivery_id) {
  auto lock = db_->lock();
  find_.reset().bind(1, delivery_id);
  if (!find_.next_row()) return std::nullopt;
  return Entry{find_.int64_at(0), find_.text_at(1), find_.text_at(2)};
}

Result<void> SentLedger::record(std::string_view delivery_id, const Entry& entry) {
  auto lock = db_->lock();
  return insert_.reset()
      .bind(1, delivery_id)
      .bind(2, entry.sent_at_ms)
      .bind(3, entry.connector)
      .bind(4, entry.gateway_message_id)
      .run();
}

std::int64_t SentLedger::size() {
  auto lock = db_->lock();
  count_.reset();
  return count_.next_row() ? count_.int64_at(0) : 0;
}

}  // namespace sunbeam
