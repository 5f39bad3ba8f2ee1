// Matches delivery receipts to deliveries (issue 3 item 7). Before a message
// is submitted, dispatch writes what it will need to record the outcome (the
// delivery's status record, its SMS parts) under the delivery id, which every
// connector gives the gateway as its reference; once the gateway answers with
// an id of its own, that id is added as an alias. A receipt is matched by its
// reference, else by the gateway id, so it matches even when it arrives
// before the gateway's answer was read. A multipart SMS is delivered once
// every part is; one undelivered part makes it undelivered. Each delivery
// settles once: later receipts for it change nothing.
//
// The book is kept in generations, one per UTC day of writing (its own three
// tables), so forgetting what no receipt will come for any more is dropping
// a day's tables (forget_before): no index by time written with every SMS, no
// deletes row by row. A receipt is looked up in the newest day first. A store
// written before generations has its tables renamed to the day it is opened,
// so they are forgotten as that day is.
//
// What expect() and alias() are given waits in memory until it is written
// into the store's open group, by the sent ledger's writer first of all (its
// write_first hook): so a send's expectation and alias are committed no later
// than its ledger row, and a crash that loses them also loses that row, and
// the delivery is sent (and expected) again. apply() writes what waits before
// it looks. The senders then never wait for the store's lock for these two
// rows (writing them there, lock waits included, was 9.6% of an SMS
// fan-out's samples; bench/NOTES.md).
//
// Thread safety: any thread (a mutex for what waits, the SqliteDb's lock for
// the store; that lock is taken first).
#pragma once

#include "connectors/receipt.h"
#include "engine/storage/sqlite_db.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace sunbeam {

class ReceiptBook {
 public:
  // `now_ms` names the day a store written before generations is adopted as.
  static Result<std::unique_ptr<ReceiptBook>> open(std::shared_ptr<SqliteDb> db, std::int64_t now_ms);

  // Before submit, at `now_ms`: the record to settle (JSON, core/status_record.h) and the parts to expect.
  void expect(std::string_view delivery_id, std::string_view record_json, int parts, std::int64_t now_ms);
  // After the gateway accepted it under its own id.
  void alias(std::string_view gateway_message_id, std::string_view delivery_id, std::int64_t now_ms);
  // Writes what waits into the store's open group (committed by the store's
  // rules or its owner's flush); with the store's lock held (`held`). On an
  // error, what was not written waits still.
  Result<void> write_pending(const std::unique_lock<std::mutex>& held);

  struct Settled {
    std::string delivery_id;
    std::string record_json;  // as given to expect()
    ReceiptOutcome outcome = ReceiptOutcome::delivered;
  };
  // The delivery's final outcome when this receipt completes it; nullopt when
  // it is informative (pending), one part of several, or the delivery already
  // settled. An error with code "receipt_unknown" when nothing matches
  // (nothing was expected, or it was forgotten).
  Result<std::optional<Settled>> apply(const Receipt& receipt);

  // Forgets the days that ended before `before_ms` (their expectations,
  // aliases and parts); how many days.
  Result<int> forget_before(std::int64_t before_ms);
  // The days kept, oldest first (days since 1970-01-01, UTC).
  std::vector<std::int64_t> days();

 private:
  // One day's tables and their statements.
  struct Day {
    SqlStatement expect, alias, find, by_alias, add_part, delivered_parts, settle;
  };
  struct Expected {
    std::string delivery_id, record_json;
    int parts = 1;
    std::int64_t now_ms = 0;
  };
  struct Alias {
    std::string gateway_message_id, delivery_id;
    std::int64_t now_ms = 0;
  };
  explicit ReceiptBook(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Result<void> adopt_tables_before_days(std::int64_t today);
  Result<void> open_day(std::int64_t day, bool create);  // with the lock held
  Result<Day*> day_for(std::int64_t now_ms);             // with the lock held
  // The day whose book expects `delivery_id`, its row loaded in `find`; nullptr when none.
  Day* expecting(std::string_view delivery_id);  // with the lock held
  std::shared_ptr<SqliteDb> db_;
  std::map<std::int64_t, Day, std::greater<>> days_;  // newest first
  std::mutex pending_mutex_;
  std::vector<Expected> expected_;  // waiting to be written; under pending_mutex_
  std::vector<Alias> aliases_;      // likewise
};

}  // namespace sunbeam
