#include "engine/storage/sqlite_db.h"

#include <sqlite3.h>

namespace sunbeam {
namespace {

Error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error("store", what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

SqlStatement& SqlStatement::operator=(SqlStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

SqlStatement::~SqlStatement() { sqlite3_finalize(stmt_); }

SqlStatement& SqlStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

SqlStatement& SqlStatement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
  return *this;
}

SqlStatement& SqlStatement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

bool SqlStatement::next_row() { return sqlite3_step(stmt_) == SQLITE_ROW; }

Result<void> SqlStatement::run() {
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, std::string("cannot run \"") + sqlite3_sql(stmt_) + "\"");
  return {};
}

std::int64_t SqlStatement::int64_at(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqlStatement::text_at(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, std::size_t(sqlite3_column_bytes(stmt_, column))) : std::string();
}

Result<std::shared_ptr<SqliteDb>> SqliteDb::open(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return make_error("store", "cannot create " + file.parent_path().string() + ": " + ec.message());
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    Error e = sqlite_error(db, "cannot open " + file.string());
    sqlite3_close(db);
    return e;
  }
  // Writers on other threads wait for the lock rather than fail at once.
  sqlite3_busy_timeout(db, 10000);
  std::shared_ptr<SqliteDb> out(new SqliteDb(db, file));
  if (auto r = out->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !r) return r.error();
  return out;
}

// close_v2: a statement someone still holds keeps the connection until it is finalized.
SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Result<void> SqliteDb::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error e = make_error("store", file_.string() + ": " + (message ? message : "unknown error"));
    sqlite3_free(message);
    return e;
  }
  return {};
}

Result<SqlStatement> SqliteDb::prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), int(sql.size()), &stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "cannot prepare \"" + sql + "\" in " + file_.string());
  return SqlStatement(stmt, db_);
}

Result<void> SqliteDb::prepare_all(std::initializer_list<std::pair<SqlStatement*, const char*>> statements) {
  for (const auto& [slot, sql] : statements) {
    auto s = prepare(sql);
    if (!s) return s.error();
    *slot = std::move(*s);
  }
  return {};
}

}  // namespace sunbeam
