// The digest role: holds the items of digest types (`digest: true`) that
// fanout puts on the `digest` topic, and on each trading day at the
// configured time sends each subscriber ONE message per channel combining
// them (docs/digest.md).
//
//   collect   the `digest` topic in the group `<prefix>digest`; each item is
//             stored (SQLite, engine/digest/digest_store.h) before its offset
//             is committed, once however often it is read
//   schedule  at schedule.digest_time in schedule.timezone on a calendar day:
//             one digest delivery per account and channel, produced to the
//             tier's `deliveries.<tier>` topic for dispatch to send; a day not
//             in the calendar sends nothing (items carry over); a day whose
//             time passed while the role was down is sent on start before
//             the cut-off (`catch_up`), else its items end `expired`
//   request   an operator's "send now" for a date (trigger `now`)
//   record    one digest_run record per date on `status`, and a record for
//             each item ended `expired` or `cancelled` here (dispatch records
//             the items a digest carried once that digest ends)
//
// Exactly once, from the store: a run is planned in one SQLite transaction
// (items -> digest deliveries), each digest is marked produced once Kafka
// acknowledges it, and a restart produces only what is not marked. Digest
// ids are stable (make_delivery_id("digest:<date>", account, channel)), so
// even the few in flight at a crash, produced again, are sent once (dispatch's
// ledger). A date whose digest was sent is never sent again.
//
// Lifecycle: construct; cancel_event()/request() may come before start()
// (the control topic's orders in force); start() -> one worker thread ->
// stop() (a run stopped half-way is finished by the next start).
#pragma once

#include "config/config.h"
#include "engine/core/clock.h"
#include "engine/digest/digest_builder.h"
#include "engine/digest/digest_schedule.h"
#include "engine/digest/digest_store.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"
#include "templates/template_set.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace sunbeam {

struct DigestStats {
  std::atomic<std::uint64_t> items{0};        // new items stored
  std::atomic<std::uint64_t> duplicates{0};   // items read again, already stored
  std::atomic<std::uint64_t> messages{0};     // digest deliveries produced
  std::atomic<std::uint64_t> expired{0};      // items ended `expired` here
  std::atomic<std::uint64_t> cancelled{0};    // items ended `cancelled` here
  std::atomic<std::uint64_t> runs{0};         // digest_run records produced (sent, expired, skipped)
  std::atomic<std::uint64_t> requests{0};     // operators' requests served (sent, or found sent already)
};

// Where this instance's digest state lives: <storage>/<kafka.instance_id>-digest.sqlite.
std::filesystem::path digest_store_path(const Config& config);

class DigestRole {
 public:
  DigestRole(const Config& config, const TemplateSet& templates, kafka::ClientSettings settings, kafka::Topics topics,
             const Clock& clock);
  ~DigestRole();

  // Errors: the schedule (time zone, times), an unreadable or empty trading
  // calendar (schedule.calendar), the store, Kafka.
  Result<void> start();
  void stop();
  // Another process joined the digest group as this instance (any thread; /readyz).
  bool fenced() const { return consumer_ && consumer_->fenced(); }

  // The operator's "send now" for `date` (YYYY-MM-DD; "" = today in
  // schedule.timezone): that date's digest is built from every pending item
  // and sent at once (trigger `now`), even on a day the calendar does not
  // list (the operator asked). Not again for a date whose digest was already
  // sent (a replayed order is harmless). Returns the date it will send, or
  // an error for a malformed date. Any thread; before start() it waits for it.
  Result<std::string> request(std::string date);
  // An operator withdrew `event_id`: its items still held end `cancelled`,
  // and so do any read later. Idempotent; any thread, also before start().
  void cancel_event(const std::string& event_id);

  const DigestStats& stats() const { return stats_; }
  // Items held for the next digest (for operators and tests); 0 before start().
  std::int64_t pending_items() const;

 private:
  void run();
  void store(const std::vector<kafka::Message>& batch);
  void apply_cancellations();
  // Whether there is a run to do now: a request, an unfinished run, or a
  // scheduled date whose time has come.
  bool work_due();
  void serve_requests();
  void follow_schedule();
  // Settles `day`'s scheduled run; false when it could not finish (retried).
  bool settle(Day day);
  bool send_run(const std::string& date, const std::string& trigger, std::int64_t expires_at_ms);
  bool produce_run(const std::string& date);
  void publish_records();
  void resume_unfinished_runs();
  std::string topic_for(const Delivery& digest) const;

  const Config& config_;
  const TemplateSet& templates_;
  kafka::ClientSettings settings_;
  kafka::Topics topics_;
  const Clock& clock_;
  std::optional<DigestSchedule> schedule_;
  std::optional<DigestBuilder> builder_;
  std::unique_ptr<DigestStore> store_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;

  SystemTime started_at_{};
  Day next_day_{};                   // the first day the schedule has not settled
  std::optional<std::chrono::steady_clock::time_point> due_since_;  // work waiting for the topic's backlog
  bool records_owed_ = true;         // status records may be waiting in the store
  bool runs_unfinished_ = true;      // a run may be planned and not all produced
  std::chrono::steady_clock::time_point pruned_at_{};

  mutable std::mutex orders_mutex_;
  std::set<std::string, std::less<>> cancelled_events_;
  std::deque<std::string> cancels_to_apply_;
  std::deque<std::string> requests_;

  std::atomic<bool> running_{false};
  std::thread thread_;
  DigestStats stats_;
};

}  // namespace sunbeam
