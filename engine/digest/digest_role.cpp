#include "engine/digest/digest_role.h"

#include "config/calendar.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sunbeam {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t items_per_batch = 500;
constexpr int digests_per_flush = 500;
constexpr int records_per_flush = 1000;
constexpr auto flush_timeout = 30s;
// How long a due run waits for the topic's backlog (what fanout produced
// while this role was down) to be read and stored; then it runs with what
// the store holds, and says so.
constexpr auto backlog_wait = 30s;
// Settled items and produced digests are kept this long (a re-read item
// within it is recognised), then forgotten.
constexpr auto keep_settled = std::chrono::hours(24 * 14);
constexpr auto prune_every = 1h;
const std::string cancelled_reason = "cancelled by an operator";

std::int64_t ms(SystemTime t) { return unix_ms(t); }

// Collects what Kafka acknowledged; shared with the delivery reports, which
// may outlive a flush that timed out.
struct Acks {
  std::mutex mutex;
  std::vector<std::string> ids;
  std::string error;
  void report(const std::string& id, const Result<void>& r) {
    std::lock_guard lock(mutex);
    if (r) ids.push_back(id);
    else error = r.error().message;
  }
  std::pair<std::vector<std::string>, std::string> take() {
    std::lock_guard lock(mutex);
    return {std::move(ids), std::move(error)};
  }
};

}  // namespace

std::filesystem::path digest_store_path(const Config& config) {
  return config.storage / (config.kafka.instance_id + "-digest.sqlite");
}

DigestRole::DigestRole(const Config& config, const TemplateSet& templates, kafka::ClientSettings settings,
                       kafka::Topics topics, const Clock& clock)
    : config_(config),
      templates_(templates),
      settings_(std::move(settings)),
      topics_(std::move(topics)),
      clock_(clock) {}

DigestRole::~DigestRole() { stop(); }

Result<void> DigestRole::start() {
  if (running_) return {};
  if (config_.schedule.calendar.empty())
    return make_error("config", "schedule.calendar is not set: the digest is sent only on the trading days it lists",
                      "schedule.calendar");
  auto calendar = load_trading_calendar(config_.schedule.calendar);
  for (const auto& p : calendar.problems) spdlog::warn("digest: {}", p.to_string());
  if (calendar.calendar.days.empty())
    return make_error("config",
                      config_.schedule.calendar.string() + ": no trading day to send a digest on (run `sunbeam check`)",
                      "schedule.calendar");
  auto schedule = DigestSchedule::create(config_.schedule, std::move(calendar.calendar));
  if (!schedule) return schedule.error();
  schedule_.emplace(std::move(*schedule));
  builder_.emplace(config_, templates_, *schedule_);

  auto db = SqliteDb::open(digest_store_path(config_));
  if (!db) return db.error();
  auto store = DigestStore::open(*db);
  if (!store) return store.error();
  store_ = std::move(*store);

  started_at_ = clock_.now();
  const Day today = schedule_->local_day(started_at_);
  const auto next = store_->next_date();
  const auto stored_next = next ? parse_day(*next) : std::nullopt;
  // A new store has missed nothing: it starts with today, unless today's
  // digest could only expire.
  next_day_ = stored_next                                ? *stored_next
              : started_at_ < schedule_->cutoff(today) ? today
                                                       : today + std::chrono::days(1);
  if (!stored_next)  // from now on, a day missed while down is known to be missed
    if (auto r = store_->set_next_date(format_day(next_day_)); !r) return r.error();
  if (const auto last = schedule_->last_listed_day(); last && *last < today + std::chrono::days(7))
    spdlog::warn("digest: the trading calendar {} ends on {}: every day after it counts as a holiday",
                 config_.schedule.calendar.string(), format_day(*last));

  auto consumer = kafka::Consumer::create(
      settings_, {config_.kafka.topic_prefix + "digest", config_.kafka.instance_id + "-digest-consumer", true},
      config_.kafka.instance_id);
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (auto r = consumer_->subscribe({topics_.digest}); !r) return r.error();
  auto producer =
      kafka::Producer::create(settings_, config_.kafka.instance_id + "-digest", kafka::Producer::Mode::idempotent);
  if (!producer) return producer.error();
  producer_ = std::move(*producer);

  due_since_.reset();
  records_owed_ = true;
  runs_unfinished_ = true;  // a run a stop or crash interrupted is finished first
  pruned_at_ = {};
  spdlog::info("digest: items held: {}; next digest on {} at {} {} (cut-off {})", store_->count("pending"),
               format_day(next_day_), config_.schedule.digest_time, config_.schedule.timezone, config_.schedule.cutoff);
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void DigestRole::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  (void)producer_->flush(flush_timeout);
  producer_.reset();
  consumer_.reset();
}

Result<std::string> DigestRole::request(std::string date) {
  if (date.empty()) {
    auto today = local_date(config_.schedule.timezone, clock_.now());
    if (!today) return today.error();
    date = std::move(*today);
  } else if (!parse_day(date)) {
    return make_error("bad_date", "\"" + date + "\" is not a date (write YYYY-MM-DD)", "date");
  }
  std::lock_guard lock(orders_mutex_);
  requests_.push_back(date);
  return Result<std::string>(boost::system::in_place_value, date);
}

void DigestRole::cancel_event(const std::string& event_id) {
  std::lock_guard lock(orders_mutex_);
  if (cancelled_events_.insert(event_id).second) cancels_to_apply_.push_back(event_id);
}

std::int64_t DigestRole::pending_items() const {
  if (!running_ || !store_) return 0;
  return store_->count("pending") + store_->count("planned");
}

void DigestRole::run() {
  while (running_) {
    const auto batch = consumer_->poll_batch(items_per_batch, 200ms);
    if (!batch.empty()) store(batch);
    apply_cancellations();
    if (work_due()) {
      const auto now = std::chrono::steady_clock::now();
      if (!due_since_) due_since_ = now;
      const bool read_all = consumer_->group_caught_up();
      if (read_all || now - *due_since_ >= backlog_wait) {
        if (!read_all)
          spdlog::warn("digest: the digest topic is not read to its end after {} s; running with the items stored",
                       std::chrono::duration_cast<std::chrono::seconds>(backlog_wait).count());
        due_since_.reset();
        resume_unfinished_runs();
        serve_requests();
        follow_schedule();
      }
    }
    if (records_owed_) publish_records();
    if (std::chrono::steady_clock::now() - pruned_at_ >= prune_every) {
      pruned_at_ = std::chrono::steady_clock::now();
      if (auto r = store_->prune(ms(clock_.now() - keep_settled)); !r) spdlog::warn("digest: {}", r.error().message);
    }
  }
}

void DigestRole::store(const std::vector<kafka::Message>& batch) {
  const auto now_ms = ms(clock_.now());
  std::vector<ItemToStore> items;
  items.reserve(batch.size());
  {
    std::lock_guard lock(orders_mutex_);
    for (const auto& m : batch) {
      auto d = parse_delivery(m.value);
      if (!d) {
        // Fanout wrote it; only a foreign producer could write this. Held
        // back, it would stop every item behind it.
        spdlog::error("digest: skipping a record at {}[{}]@{}: {}", m.topic, m.partition, m.offset, d.error().message);
        continue;
      }
      // When fanout produced it, by Kafka's timestamp; never later than our
      // own clock says it is (a clock injected in tests, or skewed).
      const auto arrived = m.timestamp_ms > 0 ? std::min(m.timestamp_ms, now_ms) : now_ms;
      const bool cancelled = cancelled_events_.contains(d->event_id);
      items.push_back(ItemToStore{std::move(*d), m.value, arrived, cancelled});
    }
  }
  auto added = store_->add(items);
  if (!added) {
    // Not stored, so not committed: read again after a pause.
    spdlog::error("digest: cannot store {} items: {}", items.size(), added.error().message);
    if (auto r = consumer_->rewind(batch); !r) spdlog::error("digest: {}", r.error().message);
    std::this_thread::sleep_for(1s);
    return;
  }
  stats_.items += *added;
  stats_.duplicates += items.size() - *added;
  if (std::any_of(items.begin(), items.end(), [](const auto& i) { return i.cancelled; })) records_owed_ = true;
  // Stored first: a commit lost now only means the items are read again,
  // and recognised.
  if (auto r = consumer_->commit(batch); !r) spdlog::warn("digest: {}", r.error().message);
}

void DigestRole::apply_cancellations() {
  std::deque<std::string> cancels;
  {
    std::lock_guard lock(orders_mutex_);
    cancels.swap(cancels_to_apply_);
  }
  while (!cancels.empty()) {
    const auto& event_id = cancels.front();
    auto n = store_->cancel_event(event_id, cancelled_reason, ms(clock_.now()));
    if (!n) {
      spdlog::error("digest: cannot cancel the items of {}: {}; retrying", event_id, n.error().message);
      std::lock_guard lock(orders_mutex_);
      cancels_to_apply_.insert(cancels_to_apply_.begin(), cancels.begin(), cancels.end());
      return;
    }
    if (*n > 0) {
      spdlog::info("digest: event {} cancelled: {} held items end cancelled", event_id, *n);
      records_owed_ = true;
    }
    cancels.pop_front();
  }
}

bool DigestRole::work_due() {
  {
    std::lock_guard lock(orders_mutex_);
    if (!requests_.empty()) return true;
  }
  if (runs_unfinished_) return true;
  const auto now = clock_.now();
  return next_day_ <= schedule_->local_day(now) && now >= schedule_->send_time(next_day_);
}

void DigestRole::serve_requests() {
  for (;;) {
    std::string date;
    {
      std::lock_guard lock(orders_mutex_);
      if (requests_.empty()) return;
      date = requests_.front();
    }
    bool done = true;
    const auto existing = store_->run(date);
    if (existing && existing->run.state == "sent") {
      spdlog::info("digest: the digest of {} was sent already ({}); not again", date, existing->run.trigger);
    } else if (existing && existing->run.state == "sending") {
      done = produce_run(date);
    } else {
      // Sent now, it must still arrive in time to be of use: by that day's
      // cut-off, or, asked for after it, by the next cut-off to come.
      const auto now = clock_.now();
      auto expires = schedule_->cutoff(*parse_day(date));
      if (expires <= now) expires = schedule_->cutoff(schedule_->local_day(now));
      if (expires <= now) expires = schedule_->cutoff(schedule_->local_day(now) + std::chrono::days(1));
      done = send_run(date, "now", ms(expires));
    }
    if (!done) return;  // kept queued: tried again
    ++stats_.requests;
    std::lock_guard lock(orders_mutex_);
    requests_.pop_front();
  }
}

void DigestRole::follow_schedule() {
  for (;;) {
    const auto now = clock_.now();
    if (!running_ || next_day_ > schedule_->local_day(now) || now < schedule_->send_time(next_day_)) return;
    if (!settle(next_day_)) return;
    next_day_ += std::chrono::days(1);
    if (auto r = store_->set_next_date(format_day(next_day_)); !r) spdlog::error("digest: {}", r.error().message);
  }
}

bool DigestRole::settle(Day day) {
  const auto date = format_day(day);
  const auto now = clock_.now();
  if (const auto existing = store_->run(date)) {
    if (existing->run.state == "sending") return produce_run(date);
    return true;  // sent on request, or settled before a restart
  }
  if (!schedule_->is_trading_day(day)) {
    spdlog::info("digest: {} is not a trading day: nothing sent, {} items carry over", date, store_->count("pending"));
    auto r = store_->record_run(DigestRun{date, "schedule", "skipped", 0, 0, 0, 0, ms(now)});
    if (!r) spdlog::error("digest: {}", r.error().message);
    records_owed_ = true;
    return bool(r);
  }
  const auto send_at = schedule_->send_time(day);
  // Running at the digest time: `schedule`; started after it: `catch_up`.
  const std::string trigger = send_at >= started_at_ ? "schedule" : "catch_up";
  const auto cutoff = schedule_->cutoff(day);
  if (now < cutoff) return send_run(date, trigger, ms(cutoff));
  // Too late: what that digest would have carried ends `expired`; items
  // that arrived after its time wait for the next one.
  const std::string reason =
      "the digest of " + date + " was not sent before the " + config_.schedule.cutoff + " cut-off";
  auto n = store_->expire_missed(date, trigger, ms(send_at), reason, ms(now));
  if (!n) {
    spdlog::error("digest: {}", n.error().message);
    return false;
  }
  spdlog::warn("digest: {}: {} items end expired", reason, *n);
  records_owed_ = true;
  return true;
}

bool DigestRole::send_run(const std::string& date, const std::string& trigger, std::int64_t expires_at_ms) {
  const auto now = clock_.now();
  const DigestFrame frame{date, ms(schedule_->send_time(*parse_day(date))), expires_at_ms, ms(now)};
  auto planned = store_->plan(
      date, trigger, ms(now), [&](const std::vector<HeldItem>& items) { return builder_->build(frame, items); },
      [&](const Delivery& digest) { return topic_for(digest); });
  if (!planned) {
    spdlog::error("digest: cannot plan the digest of {}: {}", date, planned.error().message);
    return false;
  }
  if (planned->expired > 0) records_owed_ = true;
  spdlog::info("digest: {} ({}): {} items for {} accounts in {} messages; {} expired before it", date, trigger,
               planned->items, planned->accounts, planned->messages, planned->expired);
  return produce_run(date);
}

bool DigestRole::produce_run(const std::string& date) {
  for (;;) {
    if (!running_) {
      runs_unfinished_ = true;
      return false;
    }
    const auto digests = store_->unproduced(date, digests_per_flush);
    if (digests.empty()) break;
    auto acks = std::make_shared<Acks>();
    for (const auto& d : digests)
      if (auto r = producer_->produce(d.topic, d.account, d.json, [acks, id = d.delivery_id](Result<void> r) {
            acks->report(id, r);
          });
          !r)
        acks->report(d.delivery_id, r);
    (void)producer_->flush(flush_timeout);
    auto [ids, error] = acks->take();
    if (auto r = store_->mark_produced(ids, ms(clock_.now())); !r) {
      // Kafka has them and the store does not know: a retry produces them
      // again, with the same ids, which dispatch's ledger sends once.
      spdlog::error("digest: {}", r.error().message);
      runs_unfinished_ = true;
      return false;
    }
    stats_.messages += ids.size();
    if (ids.size() < digests.size()) {
      spdlog::error("digest: {} of {} digests of {} not acknowledged by Kafka ({}); retrying",
                    digests.size() - ids.size(), digests.size(), date, error.empty() ? "timed out" : error);
      runs_unfinished_ = true;
      return false;
    }
  }
  if (auto r = store_->finish_run(date, ms(clock_.now())); !r) {
    spdlog::error("digest: {}", r.error().message);
    runs_unfinished_ = true;
    return false;
  }
  records_owed_ = true;
  return true;
}

void DigestRole::resume_unfinished_runs() {
  if (!runs_unfinished_) return;
  runs_unfinished_ = false;
  for (const auto& date : store_->runs_sending()) {
    spdlog::info("digest: finishing the digest of {}, interrupted", date);
    if (!produce_run(date)) return;
  }
}

void DigestRole::publish_records() {
  records_owed_ = false;
  for (;;) {
    const auto records = store_->unrecorded_items(records_per_flush);
    if (records.empty()) break;
    auto acks = std::make_shared<Acks>();
    for (const auto& r : records)
      if (auto p = producer_->produce(topics_.status, r.event_id, serialize(r),
                                      [acks, id = r.delivery_id](Result<void> ok) { acks->report(id, ok); });
          !p)
        acks->report(r.delivery_id, p);
    (void)producer_->flush(flush_timeout);
    auto [ids, error] = acks->take();
    for (const auto& r : records)
      if (std::find(ids.begin(), ids.end(), r.delivery_id) != ids.end())
        ++(r.state == DeliveryState::cancelled ? stats_.cancelled : stats_.expired);
    const bool marked = bool(store_->mark_items_recorded(ids));
    if (!marked || ids.size() < records.size()) {
      spdlog::warn("digest: status records not all written ({}); retrying", error.empty() ? "the store" : error);
      records_owed_ = true;
      return;
    }
  }
  for (const auto& run : store_->unrecorded_runs()) {
    auto acks = std::make_shared<Acks>();
    if (auto p = producer_->produce(topics_.status, digest_event_id(run.date), serialize(run),
                                    [acks, date = run.date](Result<void> ok) { acks->report(date, ok); });
        !p)
      acks->report(run.date, p);
    (void)producer_->flush(flush_timeout);
    auto [ids, error] = acks->take();
    if (ids.empty() || !store_->mark_run_recorded(run.date)) {
      spdlog::warn("digest: the digest_run record of {} is not written ({}); retrying", run.date, error);
      records_owed_ = true;
      return;
    }
    ++stats_.runs;
  }
}

std::string DigestRole::topic_for(const Delivery& digest) const {
  if (const auto tier = config_.tier_index(digest.tier)) return topics_.deliveries_for(*tier);
  spdlog::warn("digest: {} is in tier {}, no longer configured: its digest goes to the lowest tier's topic",
               digest.account, digest.tier);
  return topics_.deliveries.back();
}

}  // namespace sunbeam
