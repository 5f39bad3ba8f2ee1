#include "engine/dispatch/receipt_book.h"

#include <charconv>
#include <iterator>

namespace sunbeam {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t day_of(std::int64_t unix_ms) { return unix_ms >= 0 ? unix_ms / kDayMs : (unix_ms + 1) / kDayMs - 1; }

std::string table(std::string_view what, std::int64_t day) {
  return "receipt_" + std::string(what) + "_" + std::to_string(day);
}

}  // namespace

Result<std::unique_ptr<ReceiptBook>> ReceiptBook::open(std::shared_ptr<SqliteDb> db, std::int64_t now_ms) {
  std::unique_ptr<ReceiptBook> out(new ReceiptBook(db));
  auto lock = db->lock();
  if (auto r = out->adopt_tables_before_days(day_of(now_ms)); !r) return r.error();
  auto names = db->prepare("SELECT substr(name, 18) FROM sqlite_master "
                           "WHERE type = 'table' AND name GLOB 'receipt_expected_[0-9]*'");
  if (!names) return names.error();
  std::vector<std::int64_t> found;
  while (names->next_row()) {
    const std::string digits = names->text_at(0);
    std::int64_t day = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), day);
    if (ec == std::errc() && end == digits.data() + digits.size()) found.push_back(day);
  }
  for (const auto day : found)
    if (auto r = out->open_day(day, /*create=*/false); !r) return r.error();
  return out;
}

// A store written before generations has one set of tables (receipt_expected,
// receipt_alias, receipt_parts): they become today's, same columns and keys.
Result<void> ReceiptBook::adopt_tables_before_days(std::int64_t today) {
  auto legacy = db_->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'receipt_expected'");
  if (!legacy) return legacy.error();
  if (!legacy->next_row() || legacy->int64_at(0) == 0) return {};
  std::string sql = "BEGIN IMMEDIATE;";
  for (const char* what : {"expected", "alias", "parts"})
    sql += "ALTER TABLE receipt_" + std::string(what) + " RENAME TO " + table(what, today) + ";";
  sql += "COMMIT;";
  if (auto r = db_->exec(sql); !r) {
    (void)db_->exec("ROLLBACK");
    return r;
  }
  return {};
}

Result<void> ReceiptBook::open_day(std::int64_t day, bool create) {
  const std::string expected = table("expected", day), alias = table("alias", day), parts = table("parts", day);
  // The expected rows keep rowids: each holds a whole status record (~600
  // bytes), which in a WITHOUT ROWID table (a B-tree ordered by the random
  // delivery id) spills into overflow pages and lands on a random page; with
  // rowids they are appended, and only the small key index is random.
  if (create)
    if (auto r = db_->exec("CREATE TABLE IF NOT EXISTS " + expected +
                           " (delivery_id TEXT PRIMARY KEY, record TEXT NOT NULL, parts INTEGER NOT NULL,"
                           "  settled INTEGER NOT NULL DEFAULT 0);"
                           "CREATE TABLE IF NOT EXISTS " + alias +
                           " (gateway_message_id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL) WITHOUT ROWID;"
                           "CREATE TABLE IF NOT EXISTS " + parts +
                           " (delivery_id TEXT NOT NULL, part TEXT NOT NULL, outcome INTEGER NOT NULL,"
                           "  PRIMARY KEY (delivery_id, part)) WITHOUT ROWID;");
        !r)
      return r;
  Day d;
  const std::string sql[] = {
      "INSERT OR IGNORE INTO " + expected + " (delivery_id, record, parts) VALUES (?, ?, ?)",
      "INSERT OR IGNORE INTO " + alias + " VALUES (?, ?)",
      "SELECT record, parts, settled FROM " + expected + " WHERE delivery_id = ?",
      "SELECT delivery_id FROM " + alias + " WHERE gateway_message_id = ?",
      "INSERT OR REPLACE INTO " + parts + " VALUES (?, ?, ?)",
      "SELECT count(*) FROM " + parts + " WHERE delivery_id = ? AND outcome = 0",
      "UPDATE " + expected + " SET settled = 1 WHERE delivery_id = ?",
  };
  if (auto r = db_->prepare_all({{&d.expect, sql[0].c_str()},
                                 {&d.alias, sql[1].c_str()},
                                 {&d.find, sql[2].c_str()},
                                 {&d.by_alias, sql[3].c_str()},
                                 {&d.add_part, sql[4].c_str()},
                                 {&d.delivered_parts, sql[5].c_str()},
                                 {&d.settle, sql[6].c_str()}});
      !r)
    return r;
  days_.insert_or_assign(day, std::move(d));
  return {};
}

Result<ReceiptBook::Day*> ReceiptBook::day_for(std::int64_t now_ms) {
  const std::int64_t day = day_of(now_ms);
  if (auto it = days_.find(day); it != days_.end()) return &it->second;
  if (auto r = open_day(day, /*create=*/true); !r) return r.error();
  return &days_.at(day);
}

void ReceiptBook::expect(std::string_view delivery_id, std::string_view record_json, int parts, std::int64_t now_ms) {
  std::lock_guard waiting(pending_mutex_);
  expected_.push_back({std::string(delivery_id), std::string(record_json), parts, now_ms});
}

void ReceiptBook::alias(std::string_view gateway_message_id, std::string_view delivery_id, std::int64_t now_ms) {
  if (gateway_message_id.empty() || gateway_message_id == delivery_id) return;
  std::lock_guard waiting(pending_mutex_);
  aliases_.push_back({std::string(gateway_message_id), std::string(delivery_id), now_ms});
}

Result<void> ReceiptBook::write_pending(const std::unique_lock<std::mutex>& held) {
  // Taken with the store's lock held, so whoever holds it next finds
  // everything recorded before in the store (apply() looks only there).
  (void)held;
  std::vector<Expected> expected;
  std::vector<Alias> aliases;
  {
    std::lock_guard waiting(pending_mutex_);
    expected.swap(expected_);
    aliases.swap(aliases_);
  }
  auto write_expected = [this](const Expected& e) -> Result<void> {
    auto day = day_for(e.now_ms);
    if (!day) return day.error();
    return (*day)->expect.reset().bind(1, e.delivery_id).bind(2, e.record_json).bind(3, std::int64_t(e.parts)).run();
  };
  auto write_alias = [this](const Alias& a) -> Result<void> {
    auto day = day_for(a.now_ms);
    if (!day) return day.error();
    return (*day)->alias.reset().bind(1, a.gateway_message_id).bind(2, a.delivery_id).run();
  };
  Result<void> result;
  std::size_t expected_written = 0, aliases_written = 0;
  while (result && expected_written < expected.size())
    if ((result = write_expected(expected[expected_written]))) ++expected_written;
  while (result && aliases_written < aliases.size())
    if ((result = write_alias(aliases[aliases_written]))) ++aliases_written;
  if (!result) {
    // Kept, ahead of what was recorded since (a row written again is ignored).
    std::lock_guard waiting(pending_mutex_);
    expected_.insert(expected_.begin(), std::make_move_iterator(expected.begin() + std::ptrdiff_t(expected_written)),
                     std::make_move_iterator(expected.end()));
    aliases_.insert(aliases_.begin(), std::make_move_iterator(aliases.begin() + std::ptrdiff_t(aliases_written)),
                    std::make_move_iterator(aliases.end()));
  }
  return result;
}

ReceiptBook::Day* ReceiptBook::expecting(std::string_view delivery_id) {
  for (auto& [day, d] : days_)
    if (d.find.reset().bind(1, delivery_id).next_row()) return &d;
  return nullptr;
}

Result<std::optional<ReceiptBook::Settled>> ReceiptBook::apply(const Receipt& receipt) {
  auto lock = db_->lock();
  if (auto r = write_pending(lock); !r) return r.error();
  // Which delivery: our reference first, then the gateway's id (as an alias,
  // or as the reference itself for gateways that only echo ours). An alias may
  // be a day newer than its delivery's row (sent just before midnight, UTC).
  Day* book = nullptr;
  std::string delivery_id;
  for (const std::string* candidate : {&receipt.reference, &receipt.gateway_message_id}) {
    if (candidate->empty()) continue;
    if ((book = expecting(*candidate))) {
      delivery_id = *candidate;
      break;
    }
    for (auto& [day, d] : days_)
      if (d.by_alias.reset().bind(1, *candidate).next_row()) {
        delivery_id = d.by_alias.text_at(0);
        break;
      }
    if (!delivery_id.empty()) {
      book = expecting(delivery_id);
      break;
    }
  }
  if (!book)
    return make_error("receipt_unknown", "no delivery matches reference \"" + receipt.reference +
                                             "\" / gateway message id \"" + receipt.gateway_message_id +
                                             "\" (never expected, or forgotten after dispatch.receipt_retention)");
  Settled settled{delivery_id, book->find.text_at(0), ReceiptOutcome::delivered};
  const int expected_parts = receipt.parts > 0 ? receipt.parts : int(book->find.int64_at(1));
  if (book->find.int64_at(2) != 0 || receipt.outcome == ReceiptOutcome::pending) return std::nullopt;

  // A receipt about one part of several counts that part; one about the
  // whole message (or a single-part one) settles it at once.
  const bool one_part_of_several = expected_parts > 1 && receipt.part > 0;
  if (one_part_of_several && receipt.outcome == ReceiptOutcome::delivered) {
    if (auto r = book->add_part.reset().bind(1, delivery_id).bind(2, std::to_string(receipt.part)).bind(3, std::int64_t(0)).run();
        !r)
      return r.error();
    book->delivered_parts.reset().bind(1, delivery_id);
    if ((book->delivered_parts.next_row() ? book->delivered_parts.int64_at(0) : 0) < expected_parts) return std::nullopt;
  }
  settled.outcome = receipt.outcome;
  if (auto r = book->settle.reset().bind(1, delivery_id).run(); !r) return r.error();
  return settled;
}

Result<int> ReceiptBook::forget_before(std::int64_t before_ms) {
  auto lock = db_->lock();
  if (auto r = write_pending(lock); !r) return r.error();
  int forgotten = 0;
  for (auto it = days_.begin(); it != days_.end();) {
    const std::int64_t day = it->first;
    if ((day + 1) * kDayMs > before_ms) {
      ++it;
      continue;
    }
    it = days_.erase(it);  // its statements are finalized before its tables go
    std::string sql;
    for (const char* what : {"expected", "alias", "parts"}) sql += "DROP TABLE IF EXISTS " + table(what, day) + ";";
    if (auto r = db_->exec_dropping(sql); !r) return r.error();
    ++forgotten;
  }
  return forgotten;
}

std::vector<std::int64_t> ReceiptBook::days() {
  auto lock = db_->lock();
  (void)write_pending(lock);  // a day is kept once something of it is written
  std::vector<std::int64_t> out;
  for (const auto& [day, d] : days_) out.insert(out.begin(), day);
  return out;
}

}  // namespace sunbeam
