#include "engine/dispatch/sent_ledger.h"

#include <sqlite3.h>

namespace sunbeam {
namespace {

Error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error("ledger", what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Result<std::unique_ptr<SentLedger>> SentLedger::open(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return make_error("ledger", "cannot create " + file.parent_path().string() + ": " + ec.message());
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    Error e = sqlite_error(db, "cannot open the dispatch ledger " + file.string());
    sqlite3_close(db);
    return e;
  }
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS sent ("
      "  delivery_id TEXT PRIMARY KEY,"
      "  sent_at_ms INTEGER NOT NULL,"
      "  connector TEXT NOT NULL,"
      "  gateway_message_id TEXT NOT NULL"
      ") WITHOUT ROWID;";
  sqlite3_stmt *find = nullptr, *insert = nullptr, *count = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT sent_at_ms, connector, gateway_message_id FROM sent WHERE delivery_id = ?", -1,
                         &find, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?)", -1, &insert, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT count(*) FROM sent", -1, &count, nullptr) != SQLITE_OK) {
    Error e = sqlite_error(db, "cannot prepare the dispatch ledger " + file.string());
    sqlite3_finalize(find);
    sqlite3_finalize(insert);
    sqlite3_finalize(count);
    sqlite3_close(db);
    return e;
  }
  return std::unique_ptr<SentLedger>(new SentLedger(db, find, insert, count));
}

SentLedger::SentLedger(sqlite3* db, sqlite3_stmt* find, sqlite3_stmt* insert, sqlite3_stmt* count)
    : db_(db), find_(find), insert_(insert), count_(count) {}

SentLedger::~SentLedger() {
  sqlite3_finalize(find_);
  sqlite3_finalize(insert_);
  sqlite3_finalize(count_);
  sqlite3_close(db_);
}

std::optional<SentLedger::Entry> SentLedger::find(std::string_view delivery_id) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(find_);
  sqlite3_bind_text(find_, 1, delivery_id.data(), int(delivery_id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(find_) != SQLITE_ROW) return std::nullopt;
  Entry e;
  e.sent_at_ms = sqlite3_column_int64(find_, 0);
  e.connector = reinterpret_cast<const char*>(sqlite3_column_text(find_, 1));
  e.gateway_message_id = reinterpret_cast<const char*>(sqlite3_column_text(find_, 2));
  return e;
}

Result<void> SentLedger::record(std::string_view delivery_id, const Entry& entry) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(insert_);
  sqlite3_bind_text(insert_, 1, delivery_id.data(), int(delivery_id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert_, 2, entry.sent_at_ms);
  sqlite3_bind_text(insert_, 3, entry.connector.data(), int(entry.connector.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 4, entry.gateway_message_id.data(), int(entry.gateway_message_id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(insert_) != SQLITE_DONE) return sqlite_error(db_, "cannot record a sent delivery");
  return {};
}

std::int64_t SentLedger::size() {
  std::lock_guard lock(mutex_);
  sqlite3_reset(count_);
  return sqlite3_step(count_) == SQLITE_ROW ? sqlite3_column_int64(count_, 0) : 0;
}

}  // namespace sunbeam
