#include "engine/digest/digest_store.h"

#include "engine/storage/digest_run_row.h"

#include "engine/core/time_format.h"

#include <spdlog/spdlog.h>

namespace sunbeam {

Result<std::unique_ptr<DigestStore>> DigestStore::open(std::shared_ptr<SqliteDb> db) {
  if (auto r = db->exec(
          "CREATE TABLE IF NOT EXISTS items ("
          "  seq INTEGER PRIMARY KEY,"               // store order
          "  delivery_id TEXT NOT NULL UNIQUE,"
          "  event_id TEXT NOT NULL,"
          "  event_type TEXT NOT NULL,"
          "  account TEXT NOT NULL,"
          "  channel TEXT NOT NULL,"
          "  tier TEXT NOT NULL,"
          "  occurred_ms INTEGER NOT NULL,"
          "  arrived_ms INTEGER NOT NULL,"
          "  expires_ms INTEGER NOT NULL,"           // 0: none
          "  delivery TEXT NOT NULL,"
          "  state TEXT NOT NULL,"                   // pending | planned | folded | expired | cancelled
          "  digest_id TEXT NOT NULL DEFAULT '',"    // the digest that carries it, once planned
          "  reason TEXT NOT NULL DEFAULT '',"
          "  settled_ms INTEGER NOT NULL DEFAULT 0,"
          "  recorded INTEGER NOT NULL DEFAULT 1"    // 0: its status record is owed to Kafka
          ");"
          "CREATE INDEX IF NOT EXISTS items_by_state ON items(state, account, channel, occurred_ms, seq);"
          "CREATE INDEX IF NOT EXISTS items_by_event ON items(event_id);"
          "CREATE INDEX IF NOT EXISTS items_by_digest ON items(digest_id) WHERE digest_id <> '';"
          "CREATE INDEX IF NOT EXISTS items_unrecorded ON items(recorded) WHERE recorded = 0;"
          "CREATE TABLE IF NOT EXISTS digests ("
          "  delivery_id TEXT PRIMARY KEY,"
          "  date TEXT NOT NULL,"
          "  topic TEXT NOT NULL,"
          "  account TEXT NOT NULL,"
          "  delivery TEXT NOT NULL,"
          "  produced_ms INTEGER NOT NULL DEFAULT 0"  // 0: not in Kafka yet
          ") WITHOUT ROWID;"
          "CREATE INDEX IF NOT EXISTS digests_unproduced ON digests(date) WHERE produced_ms = 0;"
          "CREATE TABLE IF NOT EXISTS runs ("
          "  date TEXT PRIMARY KEY,"
          "  trigger TEXT NOT NULL,"
          "  state TEXT NOT NULL,"                   // sending | sent | expired | skipped
          "  accounts INTEGER NOT NULL,"
          "  messages INTEGER NOT NULL,"
          "  items INTEGER NOT NULL,"
          "  expired INTEGER NOT NULL,"
          "  time_ms INTEGER NOT NULL,"
          "  recorded INTEGER NOT NULL"              // 0: its digest_run record is owed to Kafka
          ") WITHOUT ROWID;"
          "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<DigestStore> out(new DigestStore(db));
  if (auto r = db->prepare_all({
          {&out->begin_, "BEGIN IMMEDIATE"},
          {&out->commit_, "COMMIT"},
          {&out->rollback_, "ROLLBACK"},
          {&out->item_exists_, "SELECT 1 FROM items WHERE delivery_id = ?"},
          {&out->insert_item_,
           "INSERT INTO items (delivery_id, event_id, event_type, account, channel, tier, occurred_ms, arrived_ms,"
           " expires_ms, delivery, state, reason, settled_ms, recorded)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
          {&out->count_event_, "SELECT count(*) FROM items WHERE event_id = ? AND state = 'pending'"},
          {&out->cancel_event_,
           "UPDATE items SET state = 'cancelled', reason = ?, settled_ms = ?, recorded = 0"
           " WHERE event_id = ? AND state = 'pending'"},
          {&out->count_state_, "SELECT count(*) FROM items WHERE state = ?"},
          {&out->count_lapsed_,
           "SELECT count(*) FROM items WHERE state = 'pending' AND expires_ms > 0 AND expires_ms <= ?"},
          {&out->expire_lapsed_,
           "UPDATE items SET state = 'expired', reason = ?, settled_ms = ?, recorded = 0"
           " WHERE state = 'pending' AND expires_ms > 0 AND expires_ms <= ?"},
          {&out->pending_,
           "SELECT seq, delivery, arrived_ms, account, channel FROM items WHERE state = 'pending'"
           " ORDER BY account, channel, occurred_ms, seq"},
          {&out->plan_item_, "UPDATE items SET state = 'planned', digest_id = ? WHERE seq = ?"},
          {&out->insert_digest_,
           "INSERT INTO digests (delivery_id, date, topic, account, delivery) VALUES (?, ?, ?, ?, ?)"},
          {&out->put_run_, "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
          {&out->unproduced_,
           "SELECT delivery_id, date, topic, account, delivery FROM digests WHERE date = ? AND produced_ms = 0"
           " ORDER BY delivery_id LIMIT ?"},
          {&out->produced_digest_, "UPDATE digests SET produced_ms = ? WHERE delivery_id = ?"},
          {&out->fold_items_,
           "UPDATE items SET state = 'folded', settled_ms = ? WHERE digest_id = ? AND state = 'planned'"},
          {&out->finish_run_,
           "UPDATE runs SET state = 'sent', time_ms = ?, recorded = 0 WHERE date = ? AND state = 'sending'"},
          {&out->count_before_, "SELECT count(*) FROM items WHERE state = 'pending' AND arrived_ms < ?"},
          {&out->expire_before_,
           "UPDATE items SET state = 'expired', reason = ?, settled_ms = ?, recorded = 0"
           " WHERE state = 'pending' AND arrived_ms < ?"},
          {&out->get_run_,
           "SELECT date, trigger, state, accounts, messages, items, expired, time_ms, recorded FROM runs"
           " WHERE date = ?"},
          {&out->runs_sending_, "SELECT date FROM runs WHERE state = 'sending' ORDER BY date"},
          {&out->unrecorded_items_,
           "SELECT delivery_id, event_id, event_type, account, channel, tier, state, reason, settled_ms FROM items"
           " WHERE recorded = 0 ORDER BY seq LIMIT ?"},
          {&out->item_recorded_, "UPDATE items SET recorded = 1 WHERE delivery_id = ?"},
          {&out->unrecorded_runs_,
           "SELECT date, trigger, state, accounts, messages, items, expired, time_ms, recorded FROM runs"
           " WHERE recorded = 0 AND state <> 'sending' ORDER BY date"},
          {&out->run_recorded_, "UPDATE runs SET recorded = 1 WHERE date = ? AND state <> 'sending'"},
          {&out->get_meta_, "SELECT value FROM meta WHERE key = ?"},
          {&out->put_meta_, "INSERT OR REPLACE INTO meta VALUES (?, ?)"},
          {&out->prune_items_,
           "DELETE FROM items WHERE state IN ('folded', 'expired', 'cancelled') AND recorded = 1 AND settled_ms < ?"},
          {&out->prune_digests_, "DELETE FROM digests WHERE produced_ms > 0 AND produced_ms < ?"},
      });
      !r)
    return r.error();
  return out;
}

Result<void> DigestStore::in_transaction(const std::function<Result<void>()>& work) {
  if (auto r = begin_.reset().run(); !r) return r.error();
  auto done = work();
  if (done) done = commit_.reset().run();
  if (!done) (void)rollback_.reset().run();
  return done;
}


std::int64_t DigestStore::count_of(SqlStatement& s) {
  const std::int64_t n = s.next_row() ? s.int64_at(0) : 0;
  s.reset();
  return n;
}

Result<void> DigestStore::put_run(const DigestRun& run, bool recorded) {
  return bind_digest_run(put_run_.reset(), 1, run).bind(9, std::int64_t(recorded ? 1 : 0)).run();
}

Result<std::size_t> DigestStore::add(const std::vector<ItemToStore>& items) {
  auto lock = db_->lock();
  std::size_t added = 0;
  auto r = in_transaction([&]() -> Result<void> {
    for (const auto& item : items) {
      const Delivery& d = item.delivery;
      if (count_of(item_exists_.reset().bind(1, d.delivery_id)) > 0) continue;
      const auto occurred = parse_rfc3339_ms(d.occurred_at);
      insert_item_.reset()
          .bind(1, d.delivery_id)
          .bind(2, d.event_id)
          .bind(3, d.event_type)
          .bind(4, d.account)
          .bind(5, to_string(d.channel))
          .bind(6, d.tier)
          .bind(7, occurred.value_or(item.arrived_ms))
          .bind(8, item.arrived_ms)
          .bind(9, d.expires_at_ms.value_or(0))
          .bind(10, item.json)
          .bind(11, item.cancelled ? "cancelled" : "pending")
          .bind(12, item.cancelled ? "cancelled by an operator" : "")
          .bind(13, item.cancelled ? item.arrived_ms : 0)
          .bind(14, std::int64_t(item.cancelled ? 0 : 1));
      if (auto step = insert_item_.run(); !step) return step.error();
      ++added;
    }
    return {};
  });
  if (!r) return r.error();
  return added;
}

Result<std::size_t> DigestStore::cancel_event(std::string_view event_id, std::string_view reason, std::int64_t now_ms) {
  auto lock = db_->lock();
  std::int64_t n = 0;
  auto r = in_transaction([&]() -> Result<void> {
    n = count_of(count_event_.reset().bind(1, event_id));
    if (n == 0) return {};
    return cancel_event_.reset().bind(1, reason).bind(2, now_ms).bind(3, event_id).run();
  });
  if (!r) return r.error();
  return std::size_t(n);
}

std::int64_t DigestStore::count(std::string_view state) {
  auto lock = db_->lock();
  return count_of(count_state_.reset().bind(1, state));
}

Result<PlanCounts> DigestStore::plan(const std::string& date, const std::string& trigger, std::int64_t now_ms,
                                     const std::function<Delivery(const std::vector<HeldItem>&)>& build,
                                     const std::function<std::string(const Delivery&)>& topic_for) {
  auto lock = db_->lock();
  PlanCounts counts;
  auto r = in_transaction([&]() -> Result<void> {
    counts.expired = count_of(count_lapsed_.reset().bind(1, now_ms));
    if (counts.expired > 0) {
      expire_lapsed_.reset().bind(1, "expires_at passed before the digest").bind(2, now_ms).bind(3, now_ms);
      if (auto e = expire_lapsed_.run(); !e) return e.error();
    }

    // Items are read in (account, channel, occurred_at) order and folded one
    // group at a time. Their new state is written once the read is done:
    // SQLite leaves undefined what a scan sees of rows changed under it.
    std::vector<std::pair<std::int64_t, std::string>> planned;  // (seq, digest id)
    std::vector<HeldItem> group;
    std::string last_account;
    const auto fold = [&]() -> Result<void> {
      if (group.empty()) return {};
      const Delivery digest = build(group);
      if (auto e = insert_digest_.reset()
                       .bind(1, digest.delivery_id)
                       .bind(2, date)
                       .bind(3, topic_for(digest))
                       .bind(4, digest.account)
                       .bind(5, serialize(digest))
                       .run();
          !e)
        return e.error();
      for (const auto& item : group) planned.emplace_back(item.seq, digest.delivery_id);
      if (digest.account != last_account) ++counts.accounts;
      last_account = digest.account;
      ++counts.messages;
      counts.items += std::int64_t(group.size());
      group.clear();
      return {};
    };
    pending_.reset();
    while (pending_.next_row()) {
      const auto seq = pending_.int64_at(0);
      auto delivery = parse_delivery(pending_.text_at(1));
      if (!delivery) {
        // Stored only after it parsed once; a row that no longer parses stays
        // pending and is named, rather than stopping every digest.
        spdlog::error("digest: item #{} in {} does not parse: {}", seq, db_->file().string(), delivery.error().message);
        continue;
      }
      if (!group.empty() && (group.front().delivery.account != delivery->account ||
                             group.front().delivery.channel != delivery->channel))
        if (auto f = fold(); !f) return f.error();
      group.push_back(HeldItem{std::move(*delivery), pending_.int64_at(2), seq});
    }
    pending_.reset();
    if (auto f = fold(); !f) return f.error();
    for (const auto& [seq, digest_id] : planned)
      if (auto e = plan_item_.reset().bind(1, digest_id).bind(2, seq).run(); !e) return e.error();
    return put_run(
        DigestRun{date, trigger, "sending", counts.accounts, counts.messages, counts.items, counts.expired, now_ms},
        false);
  });
  if (!r) return r.error();
  return counts;
}

std::vector<PlannedDigest> DigestStore::unproduced(std::string_view date, int limit) {
  auto lock = db_->lock();
  std::vector<PlannedDigest> out;
  unproduced_.reset().bind(1, date).bind(2, std::int64_t(limit));
  while (unproduced_.next_row())
    out.push_back(PlannedDigest{unproduced_.text_at(0), unproduced_.text_at(1), unproduced_.text_at(2),
                                unproduced_.text_at(3), unproduced_.text_at(4)});
  unproduced_.reset();
  return out;
}

Result<void> DigestStore::mark_produced(const std::vector<std::string>& delivery_ids, std::int64_t now_ms) {
  if (delivery_ids.empty()) return {};
  auto lock = db_->lock();
  return in_transaction([&]() -> Result<void> {
    for (const auto& id : delivery_ids) {
      if (auto e = produced_digest_.reset().bind(1, now_ms).bind(2, id).run(); !e) return e.error();
      if (auto e = fold_items_.reset().bind(1, now_ms).bind(2, id).run(); !e) return e.error();
    }
    return {};
  });
}

Result<void> DigestStore::finish_run(std::string_view date, std::int64_t now_ms) {
  auto lock = db_->lock();
  return finish_run_.reset().bind(1, now_ms).bind(2, date).run();
}

Result<std::int64_t> DigestStore::expire_missed(const std::string& date, const std::string& trigger,
                                                std::int64_t before_ms, std::string_view reason, std::int64_t now_ms) {
  auto lock = db_->lock();
  std::int64_t n = 0;
  auto r = in_transaction([&]() -> Result<void> {
    n = count_of(count_before_.reset().bind(1, before_ms));
    if (n > 0)
      if (auto e = expire_before_.reset().bind(1, reason).bind(2, now_ms).bind(3, before_ms).run(); !e)
        return e.error();
    return put_run(DigestRun{date, trigger, "expired", 0, 0, 0, n, now_ms}, false);
  });
  if (!r) return r.error();
  return n;
}

Result<void> DigestStore::record_run(const DigestRun& run) {
  auto lock = db_->lock();
  return put_run(run, false);
}

namespace {

StoredRun run_at(const SqlStatement& s) {
  return StoredRun{read_digest_run(s), s.int64_at(8) != 0};
}

}  // namespace

std::optional<StoredRun> DigestStore::run(std::string_view date) {
  auto lock = db_->lock();
  get_run_.reset().bind(1, date);
  std::optional<StoredRun> out;
  if (get_run_.next_row()) out = run_at(get_run_);
  get_run_.reset();
  return out;
}

std::vector<std::string> DigestStore::runs_sending() {
  auto lock = db_->lock();
  std::vector<std::string> out;
  runs_sending_.reset();
  while (runs_sending_.next_row()) out.push_back(runs_sending_.text_at(0));
  runs_sending_.reset();
  return out;
}

std::vector<StatusRecord> DigestStore::unrecorded_items(int limit) {
  auto lock = db_->lock();
  std::vector<StatusRecord> out;
  unrecorded_items_.reset().bind(1, std::int64_t(limit));
  while (unrecorded_items_.next_row()) {
    StatusRecord r;
    r.delivery_id = unrecorded_items_.text_at(0);
    r.event_id = unrecorded_items_.text_at(1);
    r.event_type = unrecorded_items_.text_at(2);
    r.account = unrecorded_items_.text_at(3);
    r.channel = unrecorded_items_.text_at(4);
    r.tier = unrecorded_items_.text_at(5);
    r.state = parse_delivery_state(unrecorded_items_.text_at(6)).value_or(DeliveryState::expired);
    r.reason = unrecorded_items_.text_at(7);
    r.time_ms = unrecorded_items_.int64_at(8);
    out.push_back(std::move(r));
  }
  unrecorded_items_.reset();
  return out;
}

Result<void> DigestStore::mark_items_recorded(const std::vector<std::string>& delivery_ids) {
  if (delivery_ids.empty()) return {};
  auto lock = db_->lock();
  return in_transaction([&]() -> Result<void> {
    for (const auto& id : delivery_ids)
      if (auto e = item_recorded_.reset().bind(1, id).run(); !e) return e.error();
    return {};
  });
}

std::vector<DigestRun> DigestStore::unrecorded_runs() {
  auto lock = db_->lock();
  std::vector<DigestRun> out;
  unrecorded_runs_.reset();
  while (unrecorded_runs_.next_row()) out.push_back(run_at(unrecorded_runs_).run);
  unrecorded_runs_.reset();
  return out;
}

Result<void> DigestStore::mark_run_recorded(std::string_view date) {
  auto lock = db_->lock();
  return run_recorded_.reset().bind(1, date).run();
}

std::optional<std::string> DigestStore::next_date() {
  auto lock = db_->lock();
  get_meta_.reset().bind(1, "next_date");
  std::optional<std::string> out;
  if (get_meta_.next_row()) out = get_meta_.text_at(0);
  get_meta_.reset();
  return out;
}

Result<void> DigestStore::set_next_date(std::string_view date) {
  auto lock = db_->lock();
  return put_meta_.reset().bind(1, "next_date").bind(2, date).run();
}

Result<void> DigestStore::prune(std::int64_t before_ms) {
  auto lock = db_->lock();
  return in_transaction([&]() -> Result<void> {
    if (auto e = prune_items_.reset().bind(1, before_ms).run(); !e) return e.error();
    return prune_digests_.reset().bind(1, before_ms).run();
  });
}

}  // namespace sunbeam
