#include "engine/dispatch/sent_ledger.h"

#include <vector>

namespace sunbeam {

namespace {
// How stale an event's last-send time in `sent_events` may be: the retention
// is days, so minutes do not matter, and a write per send would.
constexpr std::int64_t touch_every_ms = 5 * 60 * 1000;
}  // namespace

Result<std::unique_ptr<SentLedger>> SentLedger::open(std::shared_ptr<SqliteDb> db) {
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS sent_by_event ("
                        "  event_id TEXT NOT NULL, account TEXT NOT NULL, channel TEXT NOT NULL,"
                        "  sent_at_ms INTEGER NOT NULL, connector TEXT NOT NULL, gateway_message_id TEXT NOT NULL,"
                        "  PRIMARY KEY (event_id, account, channel)) WITHOUT ROWID;"
                        "CREATE TABLE IF NOT EXISTS sent_events ("
                        "  event_id TEXT PRIMARY KEY, last_sent_ms INTEGER NOT NULL) WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<SentLedger> out(new SentLedger(db));
  {
    auto lock = db->lock();
    auto legacy = db->prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sent'");
    if (!legacy) return legacy.error();
    out->legacy_ = legacy->next_row();
  }
  if (auto r = db->prepare_all({
          {&out->find_, "SELECT sent_at_ms, connector, gateway_message_id FROM sent_by_event"
                        " WHERE event_id = ? AND account = ? AND channel = ?"},
          {&out->insert_, "INSERT OR IGNORE INTO sent_by_event VALUES (?, ?, ?, ?, ?, ?)"},
          {&out->count_, "SELECT count(*) FROM sent_by_event"},
          {&out->touch_event_, "INSERT INTO sent_events VALUES (?1, ?2)"
                               " ON CONFLICT (event_id) DO UPDATE SET last_sent_ms = MAX(last_sent_ms, ?2)"},
          {&out->old_events_, "SELECT event_id FROM sent_events WHERE last_sent_ms < ?"},
          {&out->forget_event_, "DELETE FROM sent_events WHERE event_id = ?"},
          {&out->forget_event_sends_, "DELETE FROM sent_by_event WHERE event_id = ?"},
      });
      !r)
    return r.error();
  if (out->legacy_)
    if (auto r = db->prepare_all({
            {&out->legacy_find_, "SELECT sent_at_ms, connector, gateway_message_id FROM sent WHERE delivery_id = ?"},
            {&out->legacy_forget_, "DELETE FROM sent WHERE sent_at_ms < ?"},
            {&out->legacy_count_, "SELECT count(*) FROM sent"},
        });
        !r)
      return r.error();
  return out;
}

std::optional<SentLedger::Entry> SentLedger::find(const Key& key) {
  auto lock = db_->lock();
  find_.reset().bind(1, key.event_id).bind(2, key.account).bind(3, key.channel);
  if (find_.next_row()) return Entry{find_.int64_at(0), find_.text_at(1), find_.text_at(2)};
  if (!legacy_) return std::nullopt;
  legacy_find_.reset().bind(1, key.delivery_id);
  if (!legacy_find_.next_row()) return std::nullopt;
  return Entry{legacy_find_.int64_at(0), legacy_find_.text_at(1), legacy_find_.text_at(2)};
}

Result<void> SentLedger::record(const Key& key, const Entry& entry) {
  auto lock = db_->lock();
  if (auto r = insert_.reset()
                   .bind(1, key.event_id)
                   .bind(2, key.account)
                   .bind(3, key.channel)
                   .bind(4, entry.sent_at_ms)
                   .bind(5, entry.connector)
                   .bind(6, entry.gateway_message_id)
                   .run();
      !r)
    return r;
  auto touched = event_touched_ms_.find(key.event_id);
  if (touched != event_touched_ms_.end() && entry.sent_at_ms < touched->second + touch_every_ms) return {};
  if (auto r = touch_event_.reset().bind(1, key.event_id).bind(2, entry.sent_at_ms).run(); !r) return r;
  if (touched == event_touched_ms_.end()) event_touched_ms_.emplace(std::string(key.event_id), entry.sent_at_ms);
  else touched->second = entry.sent_at_ms;
  return {};
}

Result<std::int64_t> SentLedger::forget_before(std::int64_t before_ms) {
  auto lock = db_->lock();
  // An event's rows are one range of the key: deleting them rewrites their
  // pages once, without a scan of the rest.
  std::vector<std::string> events;
  for (old_events_.reset().bind(1, before_ms); old_events_.next_row();) events.push_back(old_events_.text_at(0));
  old_events_.reset();
  std::int64_t forgotten = 0;
  for (const auto& event_id : events) {
    if (auto r = forget_event_sends_.reset().bind(1, event_id).run(); !r) return r.error();
    forgotten += forget_event_sends_.changes();
    if (auto r = forget_event_.reset().bind(1, event_id).run(); !r) return r.error();
    event_touched_ms_.erase(event_id);
  }
  if (legacy_) {
    // The old layout has no event index: a scan, hourly, until it is empty.
    if (auto r = legacy_forget_.reset().bind(1, before_ms).run(); !r) return r.error();
    forgotten += legacy_forget_.changes();
    legacy_count_.reset();
    if (legacy_count_.next_row() && legacy_count_.int64_at(0) == 0) {
      legacy_count_.reset();
      legacy_find_ = {};
      legacy_forget_ = {};
      legacy_count_ = {};
      if (auto r = db_->exec_dropping("DROP TABLE sent"); !r) return r.error();
      legacy_ = false;
    }
  }
  return forgotten;
}

std::int64_t SentLedger::size() {
  auto lock = db_->lock();
  count_.reset();
  std::int64_t n = count_.next_row() ? count_.int64_at(0) : 0;
  count_.reset();
  if (legacy_) {
    legacy_count_.reset();
    if (legacy_count_.next_row()) n += legacy_count_.int64_at(0);
    legacy_count_.reset();
  }
  return n;
}

}  // namespace sunbeam
