// The dispatch ledger: a durable local record of every delivery id a
// connector has accepted, written as each send is accepted and before the
// batch's offsets are committed. After a crash, dispatch re-reads the
// uncommitted batch and skips what the ledger knows, so a crash duplicates
// only the sends that were in flight (accepted by the gateway, not yet in
// the ledger), never a whole batch, and loses nothing.
//
// SQLite (Debian's libsqlite3) in WAL mode with synchronous=NORMAL: a
// committed row survives the process being killed; a power cut may lose the
// last few, which then are sent again. The ledger is per instance and per
// disk: when a partition moves to another instance, that instance does not
// know what this one sent (the cost is documented in docs/architecture.md).
//
// Thread safety: all methods may be called from any thread (one connection,
// one mutex).
#pragma once

#include "engine/core/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sunbeam {

class SentLedger {
 public:
  struct Entry {
    std::int64_t sent_at_ms = 0;
    std::string connector;
    std::string gateway_message_id;
  };

  static Result<std::unique_ptr<SentLedger>> open(const std::filesystem::path& file);
  ~SentLedger();
  SentLedger(const SentLedger&) = delete;
  SentLedger& operator=(const SentLedger&) = delete;

  std::optional<Entry> find(std::string_view delivery_id);
  Result<void> record(std::string_view delivery_id, const Entry& entry);
  std::int64_t size();

 private:
  SentLedger(sqlite3* db, sqlite3_stmt* find, sqlite3_stmt* insert, sqlite3_stmt* count);
  std::mutex mutex_;
  sqlite3* db_;
  sqlite3_stmt* find_;
  sqlite3_stmt* insert_;
  sqlite3_stmt* count_;
};

}  // namespace sunbeam
