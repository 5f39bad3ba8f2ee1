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
// Thread safety: any thread (the SqliteDb's lock).
#pragma once

#include "connectors/receipt.h"
#include "engine/storage/sqlite_db.h"

#include <optional>

namespace sunbeam {

class ReceiptBook {
 public:
  static Result<std::unique_ptr<ReceiptBook>> open(std::shared_ptr<SqliteDb> db);

  // Before submit: the record to settle (JSON, core/status_record.h) and the parts to expect.
  Result<void> expect(std::string_view delivery_id, std::string_view record_json, int parts);
  // After the gateway accepted it under its own id.
  Result<void> alias(std::string_view gateway_message_id, std::string_view delivery_id);

  struct Settled {
    std::string delivery_id;
    std::string record_json;  // as given to expect()
    ReceiptOutcome outcome = ReceiptOutcome::delivered;
  };
  // The delivery's final outcome when this receipt completes it; nullopt when
  // it is informative (pending), one part of several, or the delivery already
  // settled. An error with code "receipt_unknown" when nothing matches.
  Result<std::optional<Settled>> apply(const Receipt& receipt);

 private:
  explicit ReceiptBook(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::shared_ptr<SqliteDb> db_;
  SqlStatement expect_, alias_, find_, by_alias_, add_part_, delivered_parts_, settle_;
};

}  // namespace sunbeam
