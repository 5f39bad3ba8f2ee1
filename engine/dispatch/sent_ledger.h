// The dispatch ledger: a durable local record of every delivery a connector
// has accepted, written as each send is accepted and before the delivery's
// offset is committed. After a crash, dispatch re-reads what was not
// committed and skips what the ledger knows, so a crash duplicates only the
// sends that were in flight (accepted by the gateway, not yet in the ledger)
// and loses nothing; a replay or a digest produced twice is sent once.
//
// Rows are keyed by what a delivery id is made of (event, account, channel;
// engine/core/delivery.h), not by the id, which is a hash: keyed by it, every
// send wrote a page of the B-tree at random, which was most of the store's
// cost in a large fan-out. Fan-out plans an event's deliveries in account
// order (the directory's), so these rows arrive as a few ascending runs and a
// group commit writes a few pages at their ends (bench/NOTES.md).
//
// Kept per event for `retention` after the event's last send (forget_before):
// long enough for every re-read (uncommitted offsets), deferral and replay or
// digest produced again that can still find it. A store written before this
// layout keeps its id-keyed table, still looked up, until its rows are as old.
//
// The ledger is per instance and per disk (a table of the instance's
// SqliteDb): when a partition moves to another instance, that instance does
// not know what this one sent (documented in docs/architecture.md).
//
// A send is recorded by the thread that saw it accepted, but written to the
// store by whoever calls write_pending() (dispatch's consumer thread, every
// turn of its loop, and committed before offsets are), in one lock for all
// waiting: the senders then never wait for the store's lock while the
// consumer thread holds it for the caps, and the reverse (those waits were
// ~7% of the engine's CPU, bench/NOTES.md). A crash loses the sends waiting
// and those written but not committed, as it loses an open group: the ledger
// commits once `pending_limit` (dispatch.ledger_batch) would be lost, or the
// oldest of them is `max_age` (dispatch.ledger_interval) old, as the group
// commit does. The recording thread commits itself when its send is the one
// that reaches the count; the age is watched by a writer thread of the
// ledger's own (write_in_background; without it, by the recording thread
// too). (Without the age, a consumer thread waiting on Kafka let ~500 sends
// wait: 310 duplicates per SIGKILL where the group gave 96. With the age
// watched by the recording thread, the connector's one transfer thread, which
// is most of an SMS fan-out's critical path, spent a third of its time
// writing and committing: bench/NOTES.md.)
//
// Thread safety: any thread (a mutex for the waiting sends, the SqliteDb's
// lock for the store).
#pragma once

#include "engine/storage/sqlite_db.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace sunbeam {

class SentLedger {
 public:
  struct Key {
    std::string_view event_id, account, channel;
    std::string_view delivery_id;  // made of the three; looked up in a store written before this layout
  };
  struct Entry {
    std::int64_t sent_at_ms = 0;
    std::string connector;
    std::string gateway_message_id;
  };

  // `pending_limit`, `max_age`: how many sends may wait or be uncommitted,
  // and for how long (dispatch.ledger_batch, ledger_interval).
  static Result<std::unique_ptr<SentLedger>> open(std::shared_ptr<SqliteDb> db, std::size_t pending_limit = 1,
                                                  std::chrono::milliseconds max_age = std::chrono::milliseconds(20));

  // Written or waiting.
  std::optional<Entry> find(const Key& key);
  // The first record of a delivery stands; recording it again changes nothing.
  // Waits to be written unless pending_limit sends now wait: then writes them.
  Result<void> record(const Key& key, const Entry& entry);
  // Writes the waiting sends; on an error they wait still. Returns once
  // every send recorded before the call is written (one writer at a time).
  // `now`: commits them too. `when_due`: they join the store's open group,
  // committed by its rules, by the caller's SqliteDb::flush(), or here once
  // pending_limit sends or max_age would be lost.
  enum class Commit : std::uint8_t { now, when_due };
  Result<void> write_pending(Commit commit = Commit::now);
  // Rows that must be committed no later than the sends recorded after them
  // (a send's receipt expectation and alias, ReceiptBook::write_pending):
  // `writes` runs with the store's lock held at every write_pending(),
  // before the waiting sends are written. Set once, before any record().
  using WriteFirst = std::function<Result<void>(const std::unique_lock<std::mutex>& held)>;
  void write_first(WriteFirst writes) { write_first_ = std::move(writes); }
  // Starts the writer thread that commits what waits once the oldest is
  // max_age old (stopped and joined by the destructor, which does not write).
  void write_in_background();
  void stop_writing();  // stops and joins that thread; what waits stays waiting
  ~SentLedger() { stop_writing(); }
  // Forgets the sends of events last sent before `before_ms`; how many.
  Result<std::int64_t> forget_before(std::int64_t before_ms);
  std::int64_t size();

 private:
  struct Pending {
    std::string event_id, account, channel, delivery_id;
    Entry entry;
  };
  SentLedger(std::shared_ptr<SqliteDb> db, std::size_t pending_limit, std::chrono::milliseconds max_age)
      : db_(std::move(db)), pending_limit_(std::max<std::size_t>(1, pending_limit)), max_age_(max_age) {}
  // Whether what waits or is uncommitted must be committed now (by its
  // count; also by its age unless the writer thread watches that); under pending_mutex_.
  bool commit_due(std::chrono::steady_clock::time_point now) const;
  void run_writer();
  Result<void> write(const Pending& send);  // with the store's lock held
  std::shared_ptr<SqliteDb> db_;
  WriteFirst write_first_;
  const std::size_t pending_limit_;
  const std::chrono::milliseconds max_age_;
  std::mutex writing_mutex_;  // held through write_pending(), outside the others
  std::mutex pending_mutex_;
  std::vector<Pending> pending_;  // recorded, not yet written; under pending_mutex_
  // Taken from pending_ to be written since this ledger last committed; under pending_mutex_.
  std::size_t uncommitted_ = 0;
  // When the oldest send waiting or uncommitted was recorded; under pending_mutex_.
  std::optional<std::chrono::steady_clock::time_point> oldest_;
  std::condition_variable oldest_set_;  // the writer thread waits on it for oldest_ or stopping_
  bool stopping_ = false;               // under pending_mutex_
  std::thread writer_;
  std::atomic<bool> background_{false};  // the writer thread watches the age
  SqlStatement find_, insert_, count_, touch_event_, old_events_, forget_event_, forget_event_sends_;
  SqlStatement legacy_find_, legacy_forget_, legacy_count_;
  bool legacy_ = false;  // the id-keyed table of a store written before is still there
  // When each event's last send was written to `sent_events`: rewritten at
  // most every few minutes (retention is days), not at every send.
  std::map<std::string, std::int64_t, std::less<>> event_touched_ms_;
};

}  // namespace sunbeam
