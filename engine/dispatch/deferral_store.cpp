#include "engine/dispatch/deferral_store.h"

namespace sunbeam {

Result<std::unique_ptr<DeferralStore>> DeferralStore::open(std::shared_ptr<SqliteDb> db) {
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS deferred ("
                        "  delivery_id TEXT PRIMARY KEY,"
                        "  due_ms INTEGER NOT NULL,"
                        "  first_attempt_ms INTEGER NOT NULL,"
                        "  delivery TEXT NOT NULL,"
                        "  reason TEXT NOT NULL);"
                        "CREATE INDEX IF NOT EXISTS deferred_by_due ON deferred (due_ms);");
      !r)
    return r.error();
  std::unique_ptr<DeferralStore> out(new DeferralStore(db));
  if (auto r = db->prepare_all({
      {&out->put_, "INSERT OR REPLACE INTO deferred VALUES (?, ?, ?, ?, ?)"},
      {&out->remove_, "DELETE FROM deferred WHERE delivery_id = ?"},
      {&out->due_, "SELECT * FROM deferred WHERE due_ms <= ? ORDER BY due_ms LIMIT ?"},
      {&out->find_, "SELECT * FROM deferred WHERE delivery_id = ?"},
      {&out->of_event_, "SELECT * FROM deferred WHERE json_extract(delivery, '$.event_id') = ?"},
      {&out->count_, "SELECT count(*) FROM deferred"},
      });
      !r)
    return r.error();
  return out;
}

Deferral DeferralStore::read(const SqlStatement& s) {
  return {s.text_at(0), s.int64_at(1), s.int64_at(2), s.text_at(3), s.text_at(4)};
}

Result<void> DeferralStore::put(const Deferral& d) {
  auto lock = db_->lock();
  return put_.reset()
      .bind(1, d.delivery_id)
      .bind(2, d.due_ms)
      .bind(3, d.first_attempt_ms)
      .bind(4, d.delivery_json)
      .bind(5, d.reason)
      .run();
}

Result<void> DeferralStore::remove(std::string_view delivery_id) {
  auto lock = db_->lock();
  return remove_.reset().bind(1, delivery_id).run();
}

Result<std::vector<Deferral>> DeferralStore::due(std::int64_t now_ms, std::size_t limit) {
  auto lock = db_->lock();
  due_.reset().bind(1, now_ms).bind(2, std::int64_t(limit));
  std::vector<Deferral> out;
  while (due_.next_row()) out.push_back(read(due_));
  return out;
}

std::optional<Deferral> DeferralStore::find(std::string_view delivery_id) {
  auto lock = db_->lock();
  find_.reset().bind(1, delivery_id);
  if (!find_.next_row()) return std::nullopt;
  return read(find_);
}

Result<std::vector<Deferral>> DeferralStore::of_event(std::string_view event_id) {
  auto lock = db_->lock();
  of_event_.reset().bind(1, event_id);
  std::vector<Deferral> out;
  while (of_event_.next_row()) out.push_back(read(of_event_));
  return out;
}

std::int64_t DeferralStore::size() {
  auto lock = db_->lock();
  count_.reset();
  return count_.next_row() ? count_.int64_at(0) : 0;
}

}  // namespace sunbeam
