#include "engine/dispatch/sent_ledger.h"

#include <spdlog/spdlog.h>

#include <iterator>
#include <vector>

namespace sunbeam {

namespace {
// How stale an event's last-send time in `sent_events` may be: the retention
// is days, so minutes do not matter, and a write per send would.
constexpr std::int64_t touch_every_ms = 5 * 60 * 1000;
}  // namespace

Result<std::unique_ptr<SentLedger>> SentLedger::open(std::shared_ptr<SqliteDb> db, std::size_t pending_limit,
                                                     std::chrono::milliseconds max_age) {
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS sent_by_event ("
                        "  event_id TEXT NOT NULL, account TEXT NOT NULL, channel TEXT NOT NULL,"
                        "  sent_at_ms INTEGER NOT NULL, connector TEXT NOT NULL, gateway_message_id TEXT NOT NULL,"
                        "  PRIMARY KEY (event_id, account, channel)) WITHOUT ROWID;"
                        "CREATE TABLE IF NOT EXISTS sent_events ("
                        "  event_id TEXT PRIMARY KEY, last_sent_ms INTEGER NOT NULL) WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<SentLedger> out(new SentLedger(db, pending_limit, max_age));
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
  // Not while a writer has taken sends out of pending_ and not yet written
  // them: they would be in neither place.
  std::lock_guard no_writer(writing_mutex_);
  {
    // Only records read again look (after a restart, or produced again), so a scan is fine.
    std::lock_guard waiting(pending_mutex_);
    for (const auto& p : pending_)
      if (p.event_id == key.event_id && p.account == key.account && p.channel == key.channel) return p.entry;
  }
  auto lock = db_->lock();
  find_.reset().bind(1, key.event_id).bind(2, key.account).bind(3, key.channel);
  if (find_.next_row()) return Entry{find_.int64_at(0), find_.text_at(1), find_.text_at(2)};
  if (!legacy_) return std::nullopt;
  legacy_find_.reset().bind(1, key.delivery_id);
  if (!legacy_find_.next_row()) return std::nullopt;
  return Entry{legacy_find_.int64_at(0), legacy_find_.text_at(1), legacy_find_.text_at(2)};
}

Result<void> SentLedger::record(const Key& key, const Entry& entry) {
  {
    std::lock_guard waiting(pending_mutex_);
    pending_.push_back({std::string(key.event_id), std::string(key.account), std::string(key.channel),
                        std::string(key.delivery_id), entry});
    const auto now = std::chrono::steady_clock::now();
    if (!oldest_) {
      oldest_ = now;
      oldest_set_.notify_one();
    }
    if (!commit_due(now)) return {};
  }
  return write_pending(Commit::now);
}

bool SentLedger::commit_due(std::chrono::steady_clock::time_point now) const {
  if (pending_.size() + uncommitted_ >= pending_limit_) return true;
  return !background_ && oldest_ && now - *oldest_ >= max_age_;
}

void SentLedger::write_in_background() {
  writer_ = std::thread([this] { run_writer(); });
  background_ = true;
}

void SentLedger::stop_writing() {
  {
    std::lock_guard waiting(pending_mutex_);
    stopping_ = true;
  }
  background_ = false;  // recording threads watch the age again
  oldest_set_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void SentLedger::run_writer() {
  std::unique_lock waiting(pending_mutex_);
  while (!stopping_) {
    if (!oldest_) {
      oldest_set_.wait(waiting, [this] { return stopping_ || oldest_; });
      continue;
    }
    const auto due = *oldest_ + max_age_;
    if (std::chrono::steady_clock::now() < due) {
      oldest_set_.wait_until(waiting, due);
      continue;
    }
    waiting.unlock();
    if (auto r = write_pending(Commit::now); !r) {
      spdlog::error("dispatch ledger: {} (will try again)", r.error().message);
      std::this_thread::sleep_for(max_age_);  // what waits stays oldest_: not in a spin
    }
    waiting.lock();
  }
}

Result<void> SentLedger::write_pending(Commit commit) {
  // One writer at a time: a caller returns once every send recorded before
  // its call is written, also those another thread had taken to write.
  std::lock_guard one_writer(writing_mutex_);
  std::vector<Pending> sends;
  const auto taken_at = std::chrono::steady_clock::now();
  {
    std::lock_guard waiting(pending_mutex_);
    sends.swap(pending_);
    // Still at risk while they are written and committed: counted from here,
    // or a recording thread would not see them, and up to twice pending_limit
    // sends could be lost at once (a full run's 720 duplicates per SIGKILL).
    uncommitted_ += sends.size();
  }
  std::size_t written = 0;
  Result<void> result;
  if (!sends.empty() || write_first_) {
    auto lock = db_->lock();
    if (write_first_) result = write_first_(lock);
    while (result && written < sends.size())
      if ((result = write(sends[written]))) ++written;
  }
  bool due = commit == Commit::now;
  {
    std::lock_guard waiting(pending_mutex_);
    due = due || commit_due(std::chrono::steady_clock::now());
  }
  if (result && due) {
    // Not under pending_mutex_: recording goes on while the commit is written.
    result = db_->flush();
    if (result) {
      std::lock_guard waiting(pending_mutex_);
      uncommitted_ = 0;  // only write_pending() writes, one caller at a time
      // Sends recorded since they were taken wait still (at most this old).
      oldest_.reset();
      if (!pending_.empty()) oldest_ = taken_at;
    }
  }
  if (!result) {
    // Kept, ahead of what was recorded since (a row written again is ignored).
    std::lock_guard waiting(pending_mutex_);
    uncommitted_ -= sends.size();  // counted in pending_ again
    pending_.insert(pending_.begin(), std::make_move_iterator(sends.begin()), std::make_move_iterator(sends.end()));
  }
  return result;
}

Result<void> SentLedger::write(const Pending& send) {
  if (auto r = insert_.reset()
                   .bind(1, send.event_id)
                   .bind(2, send.account)
                   .bind(3, send.channel)
                   .bind(4, send.entry.sent_at_ms)
                   .bind(5, send.entry.connector)
                   .bind(6, send.entry.gateway_message_id)
                   .run();
      !r)
    return r;
  auto touched = event_touched_ms_.find(send.event_id);
  if (touched != event_touched_ms_.end() && send.entry.sent_at_ms < touched->second + touch_every_ms) return {};
  if (auto r = touch_event_.reset().bind(1, send.event_id).bind(2, send.entry.sent_at_ms).run(); !r) return r;
  if (touched == event_touched_ms_.end()) event_touched_ms_.emplace(send.event_id, send.entry.sent_at_ms);
  else touched->second = send.entry.sent_at_ms;
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
  (void)write_pending();  // counted once written
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
