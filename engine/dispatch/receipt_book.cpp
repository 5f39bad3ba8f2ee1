#include "engine/dispatch/receipt_book.h"

namespace sunbeam {

Result<std::unique_ptr<ReceiptBook>> ReceiptBook::open(std::shared_ptr<SqliteDb> db) {
  // receipt_expected keeps rowids: its rows hold a whole status record (~600
  // bytes), which in a WITHOUT ROWID table (a B-tree ordered by the random
  // delivery id) spill into overflow pages and land on a random page each; with
  // rowids they are appended, and only the small key index is random.
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS receipt_expected ("
                        "  delivery_id TEXT PRIMARY KEY, record TEXT NOT NULL, parts INTEGER NOT NULL,"
                        "  settled INTEGER NOT NULL DEFAULT 0);"
                        "CREATE TABLE IF NOT EXISTS receipt_alias ("
                        "  gateway_message_id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL) WITHOUT ROWID;"
                        "CREATE TABLE IF NOT EXISTS receipt_parts ("
                        "  delivery_id TEXT NOT NULL, part TEXT NOT NULL, outcome INTEGER NOT NULL,"
                        "  PRIMARY KEY (delivery_id, part)) WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<ReceiptBook> out(new ReceiptBook(db));
  if (auto r = db->prepare_all({
      {&out->expect_, "INSERT OR IGNORE INTO receipt_expected (delivery_id, record, parts) VALUES (?, ?, ?)"},
      {&out->alias_, "INSERT OR IGNORE INTO receipt_alias VALUES (?, ?)"},
      {&out->find_, "SELECT record, parts, settled FROM receipt_expected WHERE delivery_id = ?"},
      {&out->by_alias_, "SELECT delivery_id FROM receipt_alias WHERE gateway_message_id = ?"},
      {&out->add_part_, "INSERT OR REPLACE INTO receipt_parts VALUES (?, ?, ?)"},
      {&out->delivered_parts_, "SELECT count(*) FROM receipt_parts WHERE delivery_id = ? AND outcome = 0"},
      {&out->settle_, "UPDATE receipt_expected SET settled = 1 WHERE delivery_id = ?"},
      });
      !r)
    return r.error();
  return out;
}

Result<void> ReceiptBook::expect(std::string_view delivery_id, std::string_view record_json, int parts) {
  auto lock = db_->lock();
  return expect_.reset().bind(1, delivery_id).bind(2, record_json).bind(3, std::int64_t(parts)).run();
}

Result<void> ReceiptBook::alias(std::string_view gateway_message_id, std::string_view delivery_id) {
  if (gateway_message_id.empty() || gateway_message_id == delivery_id) return {};
  auto lock = db_->lock();
  return alias_.reset().bind(1, gateway_message_id).bind(2, delivery_id).run();
}

Result<std::optional<ReceiptBook::Settled>> ReceiptBook::apply(const Receipt& receipt) {
  auto lock = db_->lock();
  // Which delivery: our reference first, then the gateway's id (as an alias,
  // or as the reference itself for gateways that only echo ours).
  std::string delivery_id;
  for (const std::string* candidate : {&receipt.reference, &receipt.gateway_message_id}) {
    if (candidate->empty()) continue;
    if (find_.reset().bind(1, *candidate).next_row()) {
      delivery_id = *candidate;
      break;
    }
    if (by_alias_.reset().bind(1, *candidate).next_row()) {
      delivery_id = by_alias_.text_at(0);
      break;
    }
  }
  if (delivery_id.empty() || !find_.reset().bind(1, delivery_id).next_row())
    return make_error("receipt_unknown", "no delivery matches reference \"" + receipt.reference +
                                             "\" / gateway message id \"" + receipt.gateway_message_id + "\"");
  Settled settled{delivery_id, find_.text_at(0), ReceiptOutcome::delivered};
  const int expected_parts = receipt.parts > 0 ? receipt.parts : int(find_.int64_at(1));
  if (find_.int64_at(2) != 0 || receipt.outcome == ReceiptOutcome::pending) return std::nullopt;

  // A receipt about one part of several counts that part; one about the
  // whole message (or a single-part one) settles it at once.
  const bool one_part_of_several = expected_parts > 1 && receipt.part > 0;
  if (one_part_of_several && receipt.outcome == ReceiptOutcome::delivered) {
    if (auto r = add_part_.reset().bind(1, delivery_id).bind(2, std::to_string(receipt.part)).bind(3, std::int64_t(0)).run(); !r)
      return r.error();
    delivered_parts_.reset().bind(1, delivery_id);
    if ((delivered_parts_.next_row() ? delivered_parts_.int64_at(0) : 0) < expected_parts) return std::nullopt;
  }
  settled.outcome = receipt.outcome;
  if (auto r = settle_.reset().bind(1, delivery_id).run(); !r) return r.error();
  return settled;
}

}  // namespace sunbeam
