// Deliveries waiting for a time: out of quiet hours, or for a retry after a
// back-off. Kept in the instance's SqliteDb so a deferral survives a restart:
// once a delivery is here (and its `deferred` record acknowledged), its Kafka
// offset may be committed; dispatch takes it back when it falls due.
//
// Thread safety: any thread (the SqliteDb's lock).
#pragma once

#include "engine/storage/sqlite_db.h"

#include <optional>
#include <vector>

namespace sunbeam {

struct Deferral {
  std::string delivery_id;
  std::int64_t due_ms = 0;
  std::int64_t first_attempt_ms = 0;  // when dispatch first tried it: bounds the retry age
  std::string delivery_json;          // the Delivery, attempt included (core/delivery.h)
  std::string reason;                 // "quiet_hours", "retry: <last error>"
};

class DeferralStore {
 public:
  static Result<std::unique_ptr<DeferralStore>> open(std::shared_ptr<SqliteDb> db);

  // Adds or replaces the deferral of `d.delivery_id`.
  Result<void> put(const Deferral& d);
  Result<void> remove(std::string_view delivery_id);
  // Up to `limit` deferrals due at `now_ms`, soonest first.
  Result<std::vector<Deferral>> due(std::int64_t now_ms, std::size_t limit);
  std::optional<Deferral> find(std::string_view delivery_id);
  // Every deferral of one event (an operator cancels it). A scan of the
  // stored JSON: cancels are rare, deferrals at most a night's fan-out.
  Result<std::vector<Deferral>> of_event(std::string_view event_id);
  std::int64_t size();

 private:
  explicit DeferralStore(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  static Deferral read(const SqlStatement& s);
  std::shared_ptr<SqliteDb> db_;
  SqlStatement put_, remove_, due_, find_, of_event_, count_;
};

}  // namespace sunbeam
