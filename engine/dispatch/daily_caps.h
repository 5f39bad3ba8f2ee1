// Per-subscriber daily caps per channel (SPEC §4 `caps`): at most N messages a
// local day on a channel. A delivery uses its place once (a retry or a re-read
// after a restart does not use another), and the counts survive restarts
// (a table of the instance's SqliteDb). Urgent deliveries never ask.
//
// Thread safety: any thread (the SqliteDb's lock).
#pragma once

#include "engine/storage/sqlite_db.h"

#include <set>
#include <string>

namespace sunbeam {

class DailyCaps {
 public:
  static Result<std::unique_ptr<DailyCaps>> open(std::shared_ptr<SqliteDb> db);

  // True, and the place is taken, when `delivery_id` already holds one or
  // fewer than `cap` are taken for (account, channel, day); false when capped.
  Result<bool> try_take(std::string_view account, std::string_view channel, std::string_view day,
                        std::string_view delivery_id, int cap);
  // Gives back a place taken by a delivery that then was not sent (it failed
  // or expired), so a gateway outage does not eat the customer's quota.
  Result<void> give_back(std::string_view account, std::string_view channel, std::string_view delivery_id);
  // Forgets days before `day` (YYYY-MM-DD compares as text). A scan of the
  // table, made only when such a day has places (else nothing is read).
  Result<void> forget_before(std::string_view day);

 private:
  explicit DailyCaps(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::shared_ptr<SqliteDb> db_;
  SqlStatement places_, take_, give_back_, forget_, add_day_, forget_days_;
  std::set<std::string, std::less<>> days_;  // the days with places (the cap_days table); under the db lock
};

}  // namespace sunbeam
