#include "engine/replay/replay_store.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

namespace sunbeam {

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS replays (
  replay_id TEXT PRIMARY KEY, selector TEXT NOT NULL, created_ms INTEGER NOT NULL, matched INTEGER NOT NULL,
  queued INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS replays_by_time ON replays (created_ms);
CREATE TABLE IF NOT EXISTS replay_items (
  replay_id TEXT NOT NULL, delivery_id TEXT NOT NULL, fail_seq INTEGER NOT NULL, attempt INTEGER NOT NULL,
  queued INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (replay_id, delivery_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_items_by_failure ON replay_items (delivery_id, fail_seq);
CREATE INDEX IF NOT EXISTS replay_items_unqueued ON replay_items (replay_id) WHERE queued = 0;
)sql";

// What makes a failed delivery replayable: it matches the selector, has a
// dead letter to re-queue, and no replay holds this failure of it already.
std::string replayable(const FailureCondition& where) {
  return " FROM deliveries d" + where.from_hint + " JOIN dead_letters l ON l.delivery_id = d.delivery_id WHERE " +
         where.sql +
         " AND NOT EXISTS (SELECT 1 FROM replay_items i WHERE i.delivery_id = d.delivery_id AND i.fail_seq = d.fail_seq)";
}

struct ResetAfter {
  SqlStatement& s;
  ~ResetAfter() { s.reset(); }
};

FailureSelector selector_of(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return !ec && v.is_object() ? FailureSelector::from_json(v.get_object()) : FailureSelector{};
}

}  // namespace

Result<std::unique_ptr<ReplayStore>> ReplayStore::open(StatusIndex& index) {
  {
    auto lock = index.writer().lock();
    if (auto r = index.writer().exec(schema); !r) return r.error();
  }
  std::unique_ptr<ReplayStore> out(new ReplayStore(index));
  if (auto r = out->prepare(); !r) return r.error();
  return out;
}

Result<void> ReplayStore::prepare() {
  if (auto r = index_.writer().prepare_all({
          {&begin_, "BEGIN IMMEDIATE"},
          {&commit_, "COMMIT"},
          {&rollback_, "ROLLBACK"},
          {&insert_replay_, "INSERT INTO replays (replay_id, selector, created_ms, matched) VALUES (?, ?, ?, 0)"},
          {&set_matched_, "UPDATE replays SET matched = ? WHERE replay_id = ?"},
          {&changes_, "SELECT changes()"},
          {&mark_, "UPDATE replay_items SET queued = ? WHERE replay_id = ? AND delivery_id = ? AND queued = 0"},
          {&count_queued_, "UPDATE replays SET queued = queued + ? WHERE replay_id = ?"},
          {&count_refused_, "UPDATE replays SET refused = refused + ? WHERE replay_id = ?"},
      });
      !r)
    return r;
  return index_.reader().prepare_all({
      {&replay_row_, "SELECT replay_id, selector, created_ms, matched, queued, refused FROM replays WHERE replay_id = ?"},
      {&unqueued_,
       "SELECT i.replay_id, i.delivery_id, i.attempt, COALESCE(l.delivery_json, '') FROM replay_items i"
       " JOIN replays r ON r.replay_id = i.replay_id LEFT JOIN dead_letters l ON l.delivery_id = i.delivery_id"
       " WHERE i.queued = 0 ORDER BY r.created_ms LIMIT ?"},
      {&recent_, "SELECT replay_id FROM replays ORDER BY created_ms DESC, rowid DESC LIMIT ?"},
  });
}

Result<std::int64_t> ReplayStore::count(const FailureSelector& selector) {
  const auto where = failure_condition(selector);
  auto lock = index_.reader().lock();
  auto q = index_.reader().prepare("SELECT COUNT(*)" + replayable(where));
  if (!q) return q.error();
  where.bind(*q, 1);
  if (!q->next_row()) return make_error("store", "cannot count the failures to replay");
  return q->int64_at(0);
}

Result<std::int64_t> ReplayStore::create(const std::string& replay_id, const FailureSelector& selector,
                                         std::int64_t created_at_ms) {
  const auto where = failure_condition(selector);
  auto& db = index_.writer();
  auto lock = db.lock();
  auto claim = db.prepare(
      "INSERT INTO replay_items (replay_id, delivery_id, fail_seq, attempt, queued)"
      " SELECT ?, d.delivery_id, d.fail_seq, MAX(d.attempt, l.attempt) + 1, 0" +
      replayable(where));
  if (!claim) return claim.error();
  if (auto r = begin_.reset().run(); !r) return r.error();
  auto body = [&]() -> Result<std::int64_t> {
    if (auto r = insert_replay_.reset()
                     .bind(1, replay_id)
                     .bind(2, boost::json::serialize(selector.to_json()))
                     .bind(3, created_at_ms)
                     .run();
        !r)
      return r.error();
    claim->bind(1, replay_id);
    where.bind(*claim, 2);
    if (auto r = claim->run(); !r) return r.error();
    std::int64_t matched = 0;
    {
      ResetAfter done{changes_.reset()};
      if (changes_.next_row()) matched = changes_.int64_at(0);
    }
    if (auto r = set_matched_.reset().bind(1, matched).bind(2, replay_id).run(); !r) return r.error();
    if (auto r = commit_.reset().run(); !r) return r.error();
    return matched;
  };
  auto out = body();
  if (!out) (void)rollback_.reset().run();
  return out;
}

std::vector<ReplayItem> ReplayStore::unqueued(std::size_t limit) {
  auto lock = index_.reader().lock();
  ResetAfter done{unqueued_.reset().bind(1, std::int64_t(limit))};
  std::vector<ReplayItem> out;
  while (unqueued_.next_row())
    out.push_back(ReplayItem{unqueued_.text_at(0), unqueued_.text_at(1), int(unqueued_.int64_at(2)), unqueued_.text_at(3)});
  return out;
}

Result<void> ReplayStore::mark(const std::vector<ReplayItem>& items, Outcome outcome) {
  if (items.empty()) return {};
  auto lock = index_.writer().lock();
  if (auto r = begin_.reset().run(); !r) return r;
  auto body = [&]() -> Result<void> {
    std::map<std::string, std::int64_t> per_replay;  // items that changed, per replay
    for (const auto& item : items) {
      if (auto r = mark_.reset().bind(1, std::int64_t(outcome)).bind(2, item.replay_id).bind(3, item.delivery_id).run(); !r)
        return r;
      ResetAfter done{changes_.reset()};
      if (changes_.next_row()) per_replay[item.replay_id] += changes_.int64_at(0);
    }
    auto& count = outcome == Outcome::queued ? count_queued_ : count_refused_;
    for (const auto& [replay_id, n] : per_replay)
      if (auto r = count.reset().bind(1, n).bind(2, replay_id).run(); !r) return r;
    return commit_.reset().run();
  };
  auto r = body();
  if (!r) (void)rollback_.reset().run();
  return r;
}

std::optional<ReplayProgress> ReplayStore::progress(const std::string& replay_id) {
  ReplayProgress p;
  std::int64_t refused = 0;
  {
    auto lock = index_.reader().lock();
    ResetAfter done{replay_row_.reset().bind(1, replay_id)};
    if (!replay_row_.next_row()) return std::nullopt;
    p.replay_id = replay_row_.text_at(0);
    p.selector = selector_of(replay_row_.text_at(1));
    p.created_at_ms = replay_row_.int64_at(2);
    p.matched = replay_row_.int64_at(3);
    p.queued = replay_row_.int64_at(4);
    refused = replay_row_.int64_at(5);
  }
  // The index counts the replay's deliveries by state as it reads their
  // records (status_index.h, replay_counts): no scan of the items.
  const auto states = index_.replay_states(replay_id);
  const auto n = [&](DeliveryState s) { return states[std::size_t(s)]; };
  p.sent = n(DeliveryState::sent) + n(DeliveryState::delivered) + n(DeliveryState::undelivered);
  p.failed = n(DeliveryState::failed) + n(DeliveryState::cancelled) + n(DeliveryState::expired) +
             n(DeliveryState::suppressed) + refused;
  p.pending = std::max<std::int64_t>(0, p.matched - p.sent - p.failed);
  p.done = p.pending == 0;
  return p;
}

std::vector<ReplayProgress> ReplayStore::recent(std::size_t limit) {
  std::vector<std::string> ids;
  {
    auto lock = index_.reader().lock();
    ResetAfter done{recent_.reset().bind(1, std::int64_t(limit))};
    while (recent_.next_row()) ids.push_back(recent_.text_at(0));
  }
  std::vector<ReplayProgress> out;
  for (const auto& id : ids)
    if (auto p = progress(id)) out.push_back(std::move(*p));
  return out;
}

}  // namespace sunbeam
