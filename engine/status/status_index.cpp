#include "engine/status/status_index.h"

#include "engine/storage/digest_run_row.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace sunbeam {

namespace {

// The tables derived from the topics: dropped and rebuilt when the schema
// version changes. Tables not listed here (cancels, replays) are kept.
constexpr const char* derived_tables[] = {"positions",     "deliveries",   "dead_letters", "events",
                                          "event_groups",  "event_counts", "event_reasons", "state_counts",
                                          "replay_counts", "digest_runs"};

constexpr const char* derived_schema = R"sql(
CREATE TABLE positions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)) WITHOUT ROWID;
-- Keyed by what the delivery id is made of (event, account, channel), not by
-- the id (a hash, so every new delivery's row went to a page at random):
-- fan-out plans an event's deliveries in account order (the directory's
-- order), so a fan-out's rows arrive as a few ascending runs, one per
-- partition read, and each commit writes a few pages at their ends.
CREATE TABLE deliveries (
  event_id TEXT NOT NULL, account TEXT NOT NULL, channel TEXT NOT NULL, delivery_id TEXT NOT NULL,
  event_type TEXT NOT NULL, tier TEXT NOT NULL, connector TEXT NOT NULL, attempt INTEGER NOT NULL,
  state INTEGER NOT NULL, reason TEXT NOT NULL, time_ms INTEGER NOT NULL, fail_seq INTEGER NOT NULL,
  replay_id TEXT NOT NULL, PRIMARY KEY (event_id, account, channel)) WITHOUT ROWID;
-- Only failed deliveries are ever searched (state 6 = failed): partial
-- indexes stay small and cost nothing when a delivery is sent. Each holds
-- every column a selector tests, what a page of failures shows and what a
-- replay's selection reads (with the key's account and channel, which every
-- index entry of a WITHOUT ROWID table carries, and `state`, which SQLite
-- does not take from the WHERE), so counting, sorting and listing the matches
-- read the index alone: a look-up of each row by its text key was 20 ms for
-- 8,000 matches. (Names used in status_query.cpp.)
CREATE INDEX deliveries_failed_by_time
  ON deliveries (time_ms, connector, event_id, reason, delivery_id, fail_seq, event_type, tier, attempt, state) WHERE state = 6;
CREATE INDEX deliveries_failed_by_event
  ON deliveries (event_id, time_ms, connector, reason, delivery_id, fail_seq, event_type, tier, attempt, state) WHERE state = 6;
CREATE INDEX deliveries_failed_by_connector
  ON deliveries (connector, time_ms, event_id, reason, delivery_id, fail_seq, event_type, tier, attempt, state) WHERE state = 6;
-- A rowid table: whether a delivery has a dead letter is then a look-up in
-- the small primary-key index, not in a B-tree of whole deliveries' JSON.
CREATE TABLE dead_letters (
  delivery_id TEXT PRIMARY KEY, attempt INTEGER NOT NULL, failed_at_ms INTEGER NOT NULL,
  delivery_json TEXT NOT NULL);
CREATE TABLE events (
  event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, fanouts INTEGER NOT NULL,
  first_ms INTEGER NOT NULL, summary_ms INTEGER, time_ms INTEGER NOT NULL);
CREATE INDEX events_by_time ON events (time_ms);
CREATE TABLE event_groups (
  event_id TEXT NOT NULL, tier TEXT NOT NULL, channel TEXT NOT NULL, planned INTEGER NOT NULL, digest INTEGER NOT NULL,
  PRIMARY KEY (event_id, tier, channel)) WITHOUT ROWID;
CREATE TABLE event_counts (
  event_id TEXT NOT NULL, tier TEXT NOT NULL, channel TEXT NOT NULL, state INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (event_id, tier, channel, state)) WITHOUT ROWID;
CREATE TABLE event_reasons (
  event_id TEXT NOT NULL, tier TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (event_id, tier, channel, reason)) WITHOUT ROWID;
CREATE TABLE state_counts (
  state INTEGER NOT NULL, tier TEXT NOT NULL, channel TEXT NOT NULL, connector TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (state, tier, channel, connector)) WITHOUT ROWID;
CREATE TABLE replay_counts (
  replay_id TEXT NOT NULL, state INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (replay_id, state)) WITHOUT ROWID;
CREATE TABLE digest_runs (
  date TEXT PRIMARY KEY, trigger TEXT NOT NULL, state TEXT NOT NULL, accounts INTEGER NOT NULL,
  messages INTEGER NOT NULL, items INTEGER NOT NULL, expired INTEGER NOT NULL, time_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Resets a statement when the read is over, so no read transaction stays
// open (an open one stops WAL checkpoints and the file grows).
struct ResetAfter {
  SqlStatement& s;
  ~ResetAfter() { s.reset(); }
};

// The outcomes only a gateway's receipt records.
bool is_receipt_outcome(DeliveryState s) { return s == DeliveryState::delivered || s == DeliveryState::undelivered; }

// A replay's `planned` record names it in its reason: "replay <id>".
std::string replay_of(const StatusRecord& r) {
  constexpr std::string_view prefix = "replay ";
  if (r.state != DeliveryState::planned || !r.reason.starts_with(prefix)) return {};
  return r.reason.substr(prefix.size());
}

}  // namespace

struct StatusIndex::Statements {
  // writer
  SqlStatement begin, commit, rollback;
  SqlStatement find_delivery, add_delivery, put_delivery, set_replay;
  SqlStatement add_event_count, add_reason, add_state_count, add_replay_count, touch_event;
  SqlStatement fanout_event, fanout_group, put_digest_run, put_dead_letter, put_position, cancel;
  // reader
  SqlStatement event_row, event_groups, event_counts, event_reasons, recent_events;
  SqlStatement state_counts, waiting, digest_runs, digest_run, positions, failed_total, replay_states;
};

// Count changes gathered over one batch and written once at its end: a
// million records touch a few thousand count rows, not a million.
struct StatusIndex::Batch {
  std::map<std::tuple<std::string, std::string, std::string, int>, std::int64_t> event_counts;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::int64_t> reasons;
  std::map<std::tuple<int, std::string, std::string, std::string>, std::int64_t> state_counts;
  std::map<std::pair<std::string, int>, std::int64_t> replay_counts;
  struct EventSeen {
    std::string event_type;
    std::int64_t first_ms;
  };
  std::unordered_map<std::string, EventSeen> events;

  void count(const std::string& event_id, const std::string& tier, const std::string& channel,
             const std::string& connector, DeliveryState state, std::int64_t delta) {
    event_counts[{event_id, tier, channel, int(state)}] += delta;
    state_counts[{int(state), tier, channel, connector}] += delta;
  }
};

StatusIndex::StatusIndex(std::shared_ptr<SqliteDb> writer, std::shared_ptr<SqliteDb> reader, bool rebuilt)
    : writer_(std::move(writer)), reader_(std::move(reader)), s_(std::make_unique<Statements>()), rebuilt_(rebuilt) {}

StatusIndex::~StatusIndex() = default;

Result<std::unique_ptr<StatusIndex>> StatusIndex::open(const std::filesystem::path& file) {
  auto writer = SqliteDb::open(file);
  if (!writer) return writer.error();
  auto& w = **writer;
  // 256 MiB of page cache (a limit, used as the file grows): a million
  // deliveries insert their ids at random places in the primary key's B-tree,
  // which at 64 MiB no longer fit and were read back page by page (render-only
  // at 1,000,000 went from ~7,600 to ~8,900-11,300 deliveries/s with this and
  // the dispatch store's alike; bench/NOTES.md).
  if (auto r = w.exec("PRAGMA cache_size = -262144;"
                      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "CREATE TABLE IF NOT EXISTS event_cancels (event_id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL);");
      !r)
    return r.error();
  std::string version;
  {
    auto read = w.prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!read) return read.error();
    if (read->next_row()) version = read->text_at(0);
  }
  const bool rebuild = version != std::to_string(schema_version);
  if (rebuild) {
    std::string sql = "BEGIN IMMEDIATE;";
    for (const char* table : derived_tables) sql += std::string("DROP TABLE IF EXISTS ") + table + ";";
    sql += derived_schema;
    sql += "INSERT OR REPLACE INTO meta VALUES ('schema_version', '" + std::to_string(schema_version) + "');COMMIT;";
    if (auto r = w.exec(sql); !r) {
      (void)w.exec("ROLLBACK");
      return r.error();
    }
  }
  auto reader = SqliteDb::open(file);
  if (!reader) return reader.error();
  if (auto r = (*reader)->exec("PRAGMA query_only = 1;"); !r) return r.error();
  std::unique_ptr<StatusIndex> out(new StatusIndex(std::move(*writer), std::move(*reader), rebuild));
  if (auto r = out->prepare(); !r) return r.error();
  return out;
}

Result<void> StatusIndex::prepare() {
  auto& s = *s_;
  const std::string insert_delivery =
      "INSERT INTO deliveries (event_id, account, channel, delivery_id, event_type, tier, connector, attempt, state,"
      " reason, time_ms, fail_seq, replay_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (event_id, account, channel)";
  // A delivery's first record: one statement (the usual case, a `sent` or
  // `suppressed` that is all there will be); nothing when it has a row.
  const std::string add_delivery = insert_delivery + " DO NOTHING";
  // A delivery keeps its first record's id and tier, and an event type once it has one.
  const std::string put_delivery =
      insert_delivery +
      " DO UPDATE SET event_type = COALESCE(NULLIF(excluded.event_type, ''), event_type),"
      " connector = excluded.connector, attempt = excluded.attempt, state = excluded.state, reason = excluded.reason,"
      " time_ms = excluded.time_ms, fail_seq = excluded.fail_seq, replay_id = excluded.replay_id";
  if (auto r = writer_->prepare_all({
          {&s.begin, "BEGIN IMMEDIATE"},
          {&s.commit, "COMMIT"},
          {&s.rollback, "ROLLBACK"},
          {&s.find_delivery,
           "SELECT state, attempt, connector, fail_seq, tier, replay_id FROM deliveries"
           " WHERE event_id = ?1 AND account = ?2 AND channel = ?3"},
          {&s.add_delivery, add_delivery.c_str()},
          {&s.put_delivery, put_delivery.c_str()},
          {&s.set_replay, "UPDATE deliveries SET replay_id = ?4 WHERE event_id = ?1 AND account = ?2 AND channel = ?3"},
          {&s.add_event_count,
           "INSERT INTO event_counts VALUES (?, ?, ?, ?, ?)"
           " ON CONFLICT (event_id, tier, channel, state) DO UPDATE SET n = n + excluded.n"},
          {&s.add_reason,
           "INSERT INTO event_reasons VALUES (?, ?, ?, ?, ?)"
           " ON CONFLICT (event_id, tier, channel, reason) DO UPDATE SET n = n + excluded.n"},
          {&s.add_state_count,
           "INSERT INTO state_counts VALUES (?, ?, ?, ?, ?)"
           " ON CONFLICT (state, tier, channel, connector) DO UPDATE SET n = n + excluded.n"},
          {&s.add_replay_count,
           "INSERT INTO replay_counts VALUES (?, ?, ?) ON CONFLICT (replay_id, state) DO UPDATE SET n = n + excluded.n"},
          {&s.touch_event,
           "INSERT INTO events (event_id, event_type, fanouts, first_ms, summary_ms, time_ms) VALUES (?1, ?2, 0, ?3, NULL, ?3)"
           " ON CONFLICT (event_id) DO UPDATE SET"
           " event_type = CASE WHEN event_type = '' THEN excluded.event_type ELSE event_type END,"
           " first_ms = MIN(first_ms, excluded.first_ms),"
           " time_ms = COALESCE(summary_ms, MIN(first_ms, excluded.first_ms))"},
          {&s.fanout_event,
           "INSERT INTO events (event_id, event_type, fanouts, first_ms, summary_ms, time_ms) VALUES (?1, ?2, 1, ?3, ?3, ?3)"
           " ON CONFLICT (event_id) DO UPDATE SET event_type = excluded.event_type, fanouts = fanouts + 1,"
           " first_ms = MIN(first_ms, excluded.first_ms), summary_ms = COALESCE(summary_ms, excluded.summary_ms),"
           " time_ms = COALESCE(summary_ms, excluded.summary_ms)"},
          {&s.fanout_group,
           "INSERT INTO event_groups VALUES (?, ?, ?, ?, ?)"
           " ON CONFLICT (event_id, tier, channel) DO UPDATE SET planned = excluded.planned, digest = excluded.digest"},
          {&s.put_digest_run, "INSERT OR REPLACE INTO digest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
          {&s.put_dead_letter, "INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?)"},
          {&s.put_position, "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)"},
          {&s.cancel, "INSERT OR IGNORE INTO event_cancels VALUES (?, ?)"},
      });
      !r)
    return r.error();
  return reader_->prepare_all({
      {&s.event_row, "SELECT event_type, fanouts FROM events WHERE event_id = ?"},
      {&s.event_groups, "SELECT tier, channel, planned, digest FROM event_groups WHERE event_id = ?"},
      {&s.event_counts, "SELECT tier, channel, state, n FROM event_counts WHERE event_id = ?"},
      {&s.event_reasons, "SELECT tier, channel, reason, n FROM event_reasons WHERE event_id = ?"},
      {&s.recent_events,
       "SELECT e.event_id, e.time_ms, COALESCE(c.time_ms, -1) FROM events e"
       " LEFT JOIN event_cancels c ON c.event_id = e.event_id ORDER BY e.time_ms DESC LIMIT ?"},
      {&s.state_counts,
       "SELECT state, tier, channel, connector, n FROM state_counts WHERE n <> 0 AND state <> 0 ORDER BY 1, 2, 3, 4"},
      // Planned with no outcome yet, per group as StateCounts::waiting() counts it.
      {&s.waiting,
       "SELECT g.tier, g.channel, SUM(MAX(0, g.planned - g.digest - COALESCE(c.n, 0))) FROM event_groups g"
       " LEFT JOIN (SELECT event_id, tier, channel, SUM(n) AS n FROM event_counts WHERE state <> 0"
       "            GROUP BY event_id, tier, channel) c"
       " ON c.event_id = g.event_id AND c.tier = g.tier AND c.channel = g.channel"
       " GROUP BY g.tier, g.channel ORDER BY 1, 2"},
      {&s.digest_runs,
       "SELECT date, trigger, state, accounts, messages, items, expired, time_ms FROM digest_runs"
       " ORDER BY time_ms DESC, date DESC LIMIT ?"},
      {&s.digest_run,
       "SELECT date, trigger, state, accounts, messages, items, expired, time_ms FROM digest_runs WHERE date = ?"},
      {&s.positions, "SELECT topic, partition, next_offset FROM positions"},
      {&s.failed_total, "SELECT COALESCE(SUM(n), 0) FROM state_counts WHERE state = 6"},
      {&s.replay_states, "SELECT state, n FROM replay_counts WHERE replay_id = ?"},
  });
}

// ---- writing ----------------------------------------------------------------

Result<void> StatusIndex::apply(const std::vector<Input>& inputs, const std::vector<kafka::PartitionOffset>& positions) {
  auto lock = writer_->lock();
  auto& s = *s_;
  if (auto r = s.begin.reset().run(); !r) return r.error();
  auto body = [&]() -> Result<void> {
    Batch batch;
    for (const auto& input : inputs) {
      Result<void> r;
      if (const auto* record = std::get_if<StatusTopicRecord>(&input)) {
        if (record->delivery) r = apply(*record->delivery, batch);
        else if (record->fanout) r = apply(*record->fanout);
        else if (record->digest_run) r = apply(*record->digest_run);
      } else {
        r = apply(std::get<DeadLetter>(input));
      }
      if (!r) return r;
    }
    if (auto r = flush(batch); !r) return r;
    for (const auto& p : positions)
      if (auto r = s.put_position.reset().bind(1, p.topic).bind(2, std::int64_t(p.partition)).bind(3, p.offset).run(); !r)
        return r;
    return s.commit.reset().run();
  };
  auto r = body();
  if (!r) (void)s.rollback.reset().run();
  return r;
}

Result<void> StatusIndex::apply(const StatusRecord& r, Batch& batch) {
  auto& s = *s_;
  struct Previous {
    DeliveryState state;
    int attempt;
    std::string connector;
    std::int64_t fail_seq;
    std::string tier, replay_id;
  };
  std::optional<Previous> prev;  // the delivery's row before this record, once read
  const std::string replay = replay_of(r);
  // What the row holds after this record, given prev.
  struct Row {
    const std::string& connector;
    std::int64_t fail_seq;
    const std::string& owner;
  };
  const auto row_after = [&]() -> Row {
    return {r.connector.empty() && prev ? prev->connector : r.connector,
            (prev ? prev->fail_seq : 0) + (r.state == DeliveryState::failed ? 1 : 0),
            // The replay that re-queued it last owns its outcomes; an earlier
            // one keeps the state its attempt ended in (failed).
            !replay.empty() ? replay : prev ? prev->replay_id : replay};
  };
  const auto write = [&](SqlStatement& q, const Row& row) {
    return q.reset()
        .bind(1, r.event_id)
        .bind(2, r.account)
        .bind(3, r.channel)
        .bind(4, r.delivery_id)
        .bind(5, r.event_type)
        .bind(6, r.tier)
        .bind(7, row.connector)
        .bind(8, std::int64_t(r.attempt))
        .bind(9, std::int64_t(r.state))
        .bind(10, r.reason)
        .bind(11, r.time_ms)
        .bind(12, row.fail_seq)
        .bind(13, row.owner)
        .run();
  };
  // Most records are their delivery's first and only one (a fan-out's `sent`
  // or `suppressed`): inserted at once, one B-tree descent instead of a look-up
  // and then an insert. A receipt or a later attempt has a row: it is read first.
  bool added = false;
  if (r.attempt <= 1 && !is_receipt_outcome(r.state)) {
    if (auto w = write(s.add_delivery, row_after()); !w) return w;
    added = s.add_delivery.changes() > 0;
  }
  if (!added) {
    auto& q = s.find_delivery;
    ResetAfter done{q.reset().bind(1, r.event_id).bind(2, r.account).bind(3, r.channel)};
    if (q.next_row())
      prev = Previous{DeliveryState(q.int64_at(0)), int(q.int64_at(1)), q.text_at(2), q.int64_at(3), q.text_at(4),
                      q.text_at(5)};
  }
  if (prev) {
    // A receipt can be recorded before the `sent` record it answers (a fast
    // gateway; a re-recorded `sent` after a restart): the receipt's word stands.
    const bool receipt_first = is_receipt_outcome(prev->state) && r.state == DeliveryState::sent;
    if (receipt_first) return {};
    // A replay re-queues a failed delivery as a new attempt. Its `planned`
    // record may land after that attempt's own outcome (they are produced
    // together): then the outcome stands, and is the replay's.
    if (r.state == DeliveryState::planned) {
      const bool requeued = !replay.empty() && prev->state == DeliveryState::failed && r.attempt > prev->attempt;
      if (!requeued) {
        if (!replay.empty() && r.attempt == prev->attempt && prev->replay_id != replay) {
          // The outcome was counted for the replay before (if any), whose own
          // attempt had ended failed (that is why this one re-queued it).
          if (!prev->replay_id.empty()) {
            batch.replay_counts[{prev->replay_id, int(prev->state)}] -= 1;
            batch.replay_counts[{prev->replay_id, int(DeliveryState::failed)}] += 1;
          }
          batch.replay_counts[{replay, int(prev->state)}] += 1;
          return s.set_replay.reset().bind(1, r.event_id).bind(2, r.account).bind(3, r.channel).bind(4, replay).run();
        }
        return {};  // stale, or not a replay's
      }
    }
  }
  const Row row = row_after();
  if (!added)
    if (auto w = write(s.put_delivery, row); !w) return w;
  const std::string& connector = row.connector;
  const std::string& owner = row.owner;
  // A delivery keeps the tier of its first record (its event and channel are its key).
  const auto& event_id = r.event_id;
  const auto& tier = prev ? prev->tier : r.tier;
  const auto& channel = r.channel;
  if (prev) batch.count(event_id, tier, channel, prev->connector, prev->state, -1);
  batch.count(event_id, tier, channel, connector, r.state, +1);
  if (!owner.empty()) {
    if (prev && prev->replay_id == owner) batch.replay_counts[{owner, int(prev->state)}] -= 1;
    batch.replay_counts[{owner, int(r.state)}] += 1;
  }
  // Reasons are counted when a delivery is first suppressed.
  if (r.state == DeliveryState::suppressed && (!prev || prev->state != DeliveryState::suppressed))
    batch.reasons[{event_id, tier, channel, r.reason.empty() ? "unknown" : r.reason}] += 1;
  auto [seen, inserted] = batch.events.try_emplace(event_id, Batch::EventSeen{r.event_type, r.time_ms});
  if (!inserted) {
    if (seen->second.event_type.empty()) seen->second.event_type = r.event_type;
    seen->second.first_ms = std::min(seen->second.first_ms, r.time_ms);
  }
  return {};
}

Result<void> StatusIndex::apply(const FanoutSummary& summary) {
  auto& s = *s_;
  // A re-delivered summary (the event fanned out again) replaces the counts.
  if (auto r = s.fanout_event.reset().bind(1, summary.event_id).bind(2, summary.event_type).bind(3, summary.time_ms).run();
      !r)
    return r;
  for (const auto& c : summary.counts)
    if (auto r = s.fanout_group.reset()
                     .bind(1, summary.event_id)
                     .bind(2, c.tier)
                     .bind(3, c.channel)
                     .bind(4, c.total())
                     .bind(5, c.digest)
                     .run();
        !r)
      return r;
  return {};
}

Result<void> StatusIndex::apply(const DigestRun& run) {
  return bind_digest_run(s_->put_digest_run.reset(), 1, run).run();
}

Result<void> StatusIndex::apply(const DeadLetter& letter) {
  return s_->put_dead_letter.reset()
      .bind(1, letter.delivery_id)
      .bind(2, std::int64_t(letter.attempt))
      .bind(3, letter.failed_at_ms)
      .bind(4, letter.delivery_json)
      .run();
}

Result<void> StatusIndex::flush(Batch& batch) {
  auto& s = *s_;
  for (const auto& [key, n] : batch.event_counts) {
    if (n == 0) continue;
    const auto& [event_id, tier, channel, state] = key;
    if (auto r = s.add_event_count.reset()
                     .bind(1, event_id)
                     .bind(2, tier)
                     .bind(3, channel)
                     .bind(4, std::int64_t(state))
                     .bind(5, n)
                     .run();
        !r)
      return r;
  }
  for (const auto& [key, n] : batch.reasons) {
    const auto& [event_id, tier, channel, reason] = key;
    if (auto r = s.add_reason.reset().bind(1, event_id).bind(2, tier).bind(3, channel).bind(4, reason).bind(5, n).run(); !r)
      return r;
  }
  for (const auto& [key, n] : batch.state_counts) {
    if (n == 0) continue;
    const auto& [state, tier, channel, connector] = key;
    if (auto r = s.add_state_count.reset()
                     .bind(1, std::int64_t(state))
                     .bind(2, tier)
                     .bind(3, channel)
                     .bind(4, connector)
                     .bind(5, n)
                     .run();
        !r)
      return r;
  }
  for (const auto& [key, n] : batch.replay_counts) {
    if (n == 0) continue;
    if (auto r = s.add_replay_count.reset().bind(1, key.first).bind(2, std::int64_t(key.second)).bind(3, n).run(); !r)
      return r;
  }
  for (const auto& [event_id, seen] : batch.events)
    if (auto r = s.touch_event.reset().bind(1, event_id).bind(2, seen.event_type).bind(3, seen.first_ms).run(); !r)
      return r;
  return {};
}

Result<void> StatusIndex::mark_cancelled(const std::string& event_id, std::int64_t time_ms) {
  auto lock = writer_->lock();
  return s_->cancel.reset().bind(1, event_id).bind(2, time_ms).run();
}

// ---- reading ----------------------------------------------------------------

std::vector<kafka::PartitionOffset> StatusIndex::positions() const {
  auto lock = reader_->lock();
  auto& q = s_->positions;
  ResetAfter done{q.reset()};
  std::vector<kafka::PartitionOffset> out;
  while (q.next_row()) out.push_back({q.text_at(0), std::int32_t(q.int64_at(1)), q.int64_at(2)});
  return out;
}

std::optional<EventStatus> StatusIndex::load_event(const std::string& event_id) const {
  auto& s = *s_;
  EventStatus status;
  status.event_id = event_id;
  {
    ResetAfter done{s.event_row.reset().bind(1, event_id)};
    if (!s.event_row.next_row()) return std::nullopt;
    status.event_type = s.event_row.text_at(0);
    status.fanouts = int(s.event_row.int64_at(1));
    status.fanned_out = status.fanouts > 0;
  }
  {
    ResetAfter done{s.event_groups.reset().bind(1, event_id)};
    while (s.event_groups.next_row()) {
      auto& g = status.groups[{s.event_groups.text_at(0), s.event_groups.text_at(1)}];
      g.planned = s.event_groups.int64_at(2);
      g.digest = s.event_groups.int64_at(3);
    }
  }
  {
    ResetAfter done{s.event_counts.reset().bind(1, event_id)};
    while (s.event_counts.next_row()) {
      const auto state = s.event_counts.int64_at(2);
      if (state < 0 || state >= delivery_state_count) continue;
      status.groups[{s.event_counts.text_at(0), s.event_counts.text_at(1)}].by_state[std::size_t(state)] =
          s.event_counts.int64_at(3);
    }
  }
  {
    ResetAfter done{s.event_reasons.reset().bind(1, event_id)};
    while (s.event_reasons.next_row())
      status.groups[{s.event_reasons.text_at(0), s.event_reasons.text_at(1)}]
          .suppressed_by_reason[s.event_reasons.text_at(2)] = s.event_reasons.int64_at(3);
  }
  return status;
}

std::optional<EventStatus> StatusIndex::event(const std::string& event_id) const {
  auto lock = reader_->lock();
  return load_event(event_id);
}

std::vector<EventSummary> StatusIndex::recent_events(std::size_t limit) const {
  auto lock = reader_->lock();
  auto& q = s_->recent_events;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> rows;
  {
    ResetAfter done{q.reset().bind(1, std::int64_t(limit))};
    while (q.next_row()) rows.emplace_back(q.text_at(0), q.int64_at(1), q.int64_at(2));
  }
  std::vector<EventSummary> out;
  out.reserve(rows.size());
  for (auto& [event_id, time_ms, cancelled_ms] : rows) {
    auto status = load_event(event_id);
    if (!status) continue;
    out.push_back(EventSummary{std::move(*status), time_ms, cancelled_ms >= 0, std::max<std::int64_t>(0, cancelled_ms)});
  }
  return out;
}

FailurePage StatusIndex::failures(const FailureSelector& selector, std::size_t limit) const {
  const auto where = failure_condition(selector);
  auto lock = reader_->lock();
  FailurePage out;
  // The statement's shape depends on which fields are set: prepared per call
  // (tens of microseconds, against a query of milliseconds).
  auto count = reader_->prepare("SELECT COUNT(*) FROM deliveries d" + where.from_hint + " WHERE " + where.sql);
  auto page = reader_->prepare(
      "SELECT d.delivery_id, d.event_id, d.event_type, d.account, d.channel, d.tier, d.connector, d.attempt, d.reason,"
      " d.time_ms FROM deliveries d" +
      where.from_hint + " WHERE " + where.sql + " ORDER BY d.time_ms DESC, d.delivery_id LIMIT ?");
  if (!count || !page) return out;
  if (selector.empty()) {
    // Every failure: the metrics' count has it already.
    ResetAfter done{s_->failed_total.reset()};
    if (s_->failed_total.next_row()) out.total = s_->failed_total.int64_at(0);
  } else {
    where.bind(*count, 1);
    if (count->next_row()) out.total = count->int64_at(0);
    count->reset();
  }
  page->bind(where.bind(*page, 1), std::int64_t(limit));
  while (page->next_row())
    out.rows.push_back(FailureRow{page->text_at(0), page->text_at(1), page->text_at(2), page->text_at(3),
                                  page->text_at(4), page->text_at(5), page->text_at(6), int(page->int64_at(7)),
                                  page->text_at(8), page->int64_at(9)});
  return out;
}

std::vector<DeliveryCount> StatusIndex::delivery_counts() const {
  auto lock = reader_->lock();
  auto& s = *s_;
  std::vector<DeliveryCount> out;
  {
    ResetAfter done{s.waiting.reset()};
    while (s.waiting.next_row())
      if (const auto n = s.waiting.int64_at(2); n > 0)
        out.push_back({DeliveryState::planned, s.waiting.text_at(0), s.waiting.text_at(1), "", n});
  }
  {
    ResetAfter done{s.state_counts.reset()};
    while (s.state_counts.next_row()) {
      const auto state = s.state_counts.int64_at(0);
      if (state <= 0 || state >= delivery_state_count) continue;
      out.push_back({DeliveryState(state), s.state_counts.text_at(1), s.state_counts.text_at(2),
                     s.state_counts.text_at(3), s.state_counts.int64_at(4)});
    }
  }
  return out;
}

std::array<std::int64_t, delivery_state_count> StatusIndex::replay_states(const std::string& replay_id) const {
  auto lock = reader_->lock();
  auto& q = s_->replay_states;
  ResetAfter done{q.reset().bind(1, replay_id)};
  std::array<std::int64_t, delivery_state_count> out{};
  while (q.next_row())
    if (const auto state = q.int64_at(0); state >= 0 && state < delivery_state_count) out[std::size_t(state)] = q.int64_at(1);
  return out;
}


std::vector<DigestRun> StatusIndex::digest_runs(std::size_t limit) const {
  auto lock = reader_->lock();
  auto& q = s_->digest_runs;
  ResetAfter done{q.reset().bind(1, std::int64_t(limit))};
  std::vector<DigestRun> out;
  while (q.next_row()) out.push_back(read_digest_run(q));
  return out;
}

std::optional<DigestRun> StatusIndex::digest_run(const std::string& date) const {
  auto lock = reader_->lock();
  auto& q = s_->digest_run;
  ResetAfter done{q.reset().bind(1, date)};
  if (!q.next_row()) return std::nullopt;
  return read_digest_run(q);
}

}  // namespace sunbeam
