// A thin RAII layer over one SQLite connection (Debian's libsqlite3), shared
// by the durable local state: dispatch's stores (sent ledger, deferrals, caps,
// receipts), the digest's items and the status index,
// each in its own file per instance. WAL mode with
// synchronous=NORMAL: a committed row survives the process being killed; a
// power cut may lose the last few (then those are sent again, never lost).
//
// Thread safety: one connection and one mutex; every store takes `lock()`
// around its statements, so the stores may be used from any thread.
//
// Group commit (dispatch's store, `Options::group_writes`): a write does not
// commit on its own but joins an open transaction, committed after that many
// writes, when it is older than `group_age`, or at `flush()`. One commit per
// hundreds of writes instead of one each: at tens of thousands of sends a
// second, per-write commits (each a WAL append, a lock and a page write) were
// most of dispatch's CPU (bench/NOTES.md). What a group holds survives a
// crash only once committed, so the owner flushes before it tells Kafka
// (offsets) that the work is done.
#pragma once

#include "engine/core/result.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <utility>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sunbeam {

class SqliteDb;

// A prepared statement; reset() before re-use, bind() by 1-based index.
class SqlStatement {
 public:
  SqlStatement() = default;
  SqlStatement(SqlStatement&& other) noexcept : stmt_(other.stmt_), db_(other.db_), owner_(other.owner_) {
    other.stmt_ = nullptr;
  }
  SqlStatement& operator=(SqlStatement&& other) noexcept;
  ~SqlStatement();

  SqlStatement& reset();
  SqlStatement& bind(int index, std::string_view text);
  SqlStatement& bind(int index, std::int64_t value);
  bool next_row();        // true while a row is there
  Result<void> run();     // steps to the end; an error says what failed
  std::int64_t changes() const;  // rows the last run() inserted, changed or deleted (under the lock)
  std::int64_t int64_at(int column) const;
  std::string text_at(int column) const;

 private:
  friend class SqliteDb;
  SqlStatement(sqlite3_stmt* stmt, sqlite3* db, SqliteDb* owner) : stmt_(stmt), db_(db), owner_(owner) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  SqliteDb* owner_ = nullptr;  // for group commit
};

class SqliteDb {
 public:
  struct Options {
    int group_writes = 0;   // > 1: group commit, at most this many writes a transaction
    std::chrono::milliseconds group_age{20};
    bool exclusive = false;  // the only connection to its file: no file locks per transaction
    int cache_mib = 0;       // 0: SQLite's default page cache
  };
  static Result<std::shared_ptr<SqliteDb>> open(const std::filesystem::path& file);
  static Result<std::shared_ptr<SqliteDb>> open(const std::filesystem::path& file, const Options& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Result<void> exec(const std::string& sql);
  // exec() for a DROP TABLE, with the lock held: SQLite refuses to drop a
  // table while any statement of the connection is still on a row (a look-up
  // read one row and was not reset), so those are reset first. Every store
  // resets its statements before use, under the same lock, so none is mid-read.
  Result<void> exec_dropping(const std::string& sql);
  Result<SqlStatement> prepare(const std::string& sql);
  // Prepares each (slot, SQL) pair into its slot; the first failure stops.
  Result<void> prepare_all(std::initializer_list<std::pair<SqlStatement*, const char*>> statements);
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }
  const std::filesystem::path& file() const { return file_; }
  // Commits the open group, if any (takes the lock).
  Result<void> flush();

 private:
  friend class SqlStatement;
  SqliteDb(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  // Around a write statement, with the lock held: join (or open) the group, commit it when full or old.
  Result<void> before_write();
  Result<void> after_write();
  Result<void> commit_group();
  sqlite3* db_;
  std::filesystem::path file_;
  std::mutex mutex_;
  Options options_;
  bool in_group_ = false;
  int group_size_ = 0;
  std::chrono::steady_clock::time_point group_began_;
};

}  // namespace sunbeam
