#include "engine/dispatch/daily_caps.h"

namespace sunbeam {

Result<std::unique_ptr<DailyCaps>> DailyCaps::open(std::shared_ptr<SqliteDb> db) {
  // One B-tree, ordered by account: a delivery's place is found under its
  // account and channel (a few rows: the days kept times the cap), so no
  // second index by delivery id is written at random for every delivery (it
  // was; a store made before keeps its table and that index, which still works).
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS cap_uses ("
                        "  account TEXT NOT NULL, channel TEXT NOT NULL, day TEXT NOT NULL,"
                        "  delivery_id TEXT NOT NULL,"
                        "  PRIMARY KEY (account, channel, day, delivery_id)) WITHOUT ROWID;");
      !r)
    return r.error();
  // The days that have places, so forgetting old days scans the table (it is
  // ordered by account) only when there is a day to forget, about once a day.
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS cap_days (day TEXT PRIMARY KEY) WITHOUT ROWID;"); !r)
    return r.error();
  std::unique_ptr<DailyCaps> out(new DailyCaps(db));
  const auto learn_days = [&](const char* sql) -> Result<void> {
    auto lock = db->lock();
    auto days = db->prepare(sql);
    if (!days) return days.error();
    while (days->next_row()) out->days_.insert(days->text_at(0));
    return {};
  };
  if (auto r = learn_days("SELECT day FROM cap_days"); !r) return r.error();
  // A store made before cap_days: learn its days from the places themselves.
  if (out->days_.empty())
    if (auto r = learn_days("SELECT DISTINCT day FROM cap_uses"); !r) return r.error();
  if (auto r = db->prepare_all({
      {&out->add_day_, "INSERT OR IGNORE INTO cap_days VALUES (?)"},
      {&out->forget_days_, "DELETE FROM cap_days WHERE day < ?"},
      // One seek for both questions: the places of (account, channel) are a
      // few rows (the days kept times the cap); was the delivery's one of
      // them, and how many are the day's?
      {&out->places_,
       "SELECT coalesce(max(delivery_id = ?4), 0), coalesce(sum(day = ?3), 0) FROM cap_uses"
       " WHERE account = ?1 AND channel = ?2"},
      {&out->take_, "INSERT OR IGNORE INTO cap_uses VALUES (?, ?, ?, ?)"},
      {&out->give_back_, "DELETE FROM cap_uses WHERE account = ? AND channel = ? AND delivery_id = ?"},
      {&out->forget_, "DELETE FROM cap_uses WHERE day < ?"},
      });
      !r)
    return r.error();
  return out;
}

Result<bool> DailyCaps::try_take(std::string_view account, std::string_view channel, std::string_view day,
                                 std::string_view delivery_id, int cap) {
  auto lock = db_->lock();  // the check and the insert are one step for every thread
  places_.reset().bind(1, account).bind(2, channel).bind(3, day).bind(4, delivery_id);
  if (!places_.next_row()) return make_error("storage", "cannot read the daily cap's places");
  const bool holds = places_.int64_at(0) != 0;
  const std::int64_t used = places_.int64_at(1);
  places_.reset();  // its read ends before the insert
  if (holds) return true;  // this delivery holds a place already
  if (used >= cap) return false;
  if (auto r = take_.reset().bind(1, account).bind(2, channel).bind(3, day).bind(4, delivery_id).run(); !r)
    return r.error();
  if (!days_.contains(day)) {
    if (auto r = add_day_.reset().bind(1, day).run(); !r) return r.error();
    days_.emplace(day);
  }
  return true;
}

Result<void> DailyCaps::give_back(std::string_view account, std::string_view channel, std::string_view delivery_id) {
  auto lock = db_->lock();
  return give_back_.reset().bind(1, account).bind(2, channel).bind(3, delivery_id).run();
}

Result<void> DailyCaps::forget_before(std::string_view day) {
  auto lock = db_->lock();
  if (days_.empty() || *days_.begin() >= day) return {};
  if (auto r = forget_.reset().bind(1, day).run(); !r) return r;
  if (auto r = forget_days_.reset().bind(1, day).run(); !r) return r;
  days_.erase(days_.begin(), days_.lower_bound(day));
  return {};
}

}  // namespace sunbeam
