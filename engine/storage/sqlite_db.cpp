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
    owner_ = other.owner_;
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

std::int64_t SqlStatement::changes() const { return sqlite3_changes64(db_); }

Result<void> SqlStatement::run() {
  const bool grouped = owner_ && owner_->options_.group_writes > 1 && !sqlite3_stmt_readonly(stmt_);
  if (grouped)
    if (auto r = owner_->before_write(); !r) return r;
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, std::string("cannot run \"") + sqlite3_sql(stmt_) + "\"");
  return grouped ? owner_->after_write() : Result<void>{};
}

std::int64_t SqlStatement::int64_at(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqlStatement::text_at(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, std::size_t(sqlite3_column_bytes(stmt_, column))) : std::string();
}

Result<std::shared_ptr<SqliteDb>> SqliteDb::open(const std::filesystem::path& file) { return open(file, Options{}); }

Result<std::shared_ptr<SqliteDb>> SqliteDb::open(const std::filesystem::path& file, const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return make_error("store", "cannot create " + file.parent_path().string() + ": " + ec.message());
  // SQLite's memory statistics (on by default) take one process-wide mutex
  // around every malloc and free it makes: the stores' threads (dispatch's
  // consumer and senders, the status index) queued on it. Nothing here reads
  // them. Set before the library initialises, hence before the first open.
  static std::once_flag no_memory_statistics;
  std::call_once(no_memory_statistics, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    Error e = sqlite_error(db, "cannot open " + file.string());
    sqlite3_close(db);
    return e;
  }
  // Writers on other threads wait for the lock rather than fail at once.
  sqlite3_busy_timeout(db, 10000);
  std::shared_ptr<SqliteDb> out(new SqliteDb(db, file));
  out->options_ = options;
  // EXCLUSIVE before WAL: then SQLite keeps the WAL index in memory, not in a shared -shm file.
  std::string pragmas = options.exclusive ? "PRAGMA locking_mode=EXCLUSIVE;" : "";
  pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  // A group commit writes hundreds of pages: checkpoint the WAL less often than every 1,000 pages.
  if (options.group_writes > 1) pragmas += "PRAGMA wal_autocheckpoint=16384;";
  if (options.cache_mib > 0) pragmas += "PRAGMA cache_size=-" + std::to_string(options.cache_mib * 1024) + ";";
  if (auto r = out->exec(pragmas); !r) return r.error();
  return out;
}

Result<void> SqliteDb::before_write() {
  if (!sqlite3_get_autocommit(db_)) return {};  // a group, or the caller's own transaction, is open
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  in_group_ = true;
  group_size_ = 0;
  group_began_ = std::chrono::steady_clock::now();
  return {};
}

Result<void> SqliteDb::after_write() {
  if (!in_group_) return {};  // the caller's transaction: theirs to commit
  if (++group_size_ >= options_.group_writes || std::chrono::steady_clock::now() - group_began_ >= options_.group_age)
    return commit_group();
  return {};
}

Result<void> SqliteDb::commit_group() {
  if (!in_group_) return {};
  in_group_ = false;
  group_size_ = 0;
  return exec("COMMIT");
}

Result<void> SqliteDb::flush() {
  auto held = lock();
  return commit_group();
}

// close_v2: a statement someone still holds keeps the connection until it is finalized.
SqliteDb::~SqliteDb() {
  (void)commit_group();  // closing would roll an open group back
  sqlite3_close_v2(db_);
}

Result<void> SqliteDb::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error e = make_error("store", file_.string() + ": " + (message ? message : "unknown error"));
    sqlite3_free(message);
    return e;
  }
  return {};
}

Result<void> SqliteDb::exec_dropping(const std::string& sql) {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s))
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
  return exec(sql);
}

Result<SqlStatement> SqliteDb::prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), int(sql.size()), &stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "cannot prepare \"" + sql + "\" in " + file_.string());
  return SqlStatement(stmt, db_, this);
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
