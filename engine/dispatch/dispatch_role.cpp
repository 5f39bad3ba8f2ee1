#include "engine/dispatch/dispatch_role.h"

#include "connectors/failure.h"
#include "engine/core/masking.h"
#include "engine/core/time_format.h"
#include "engine/dispatch/local_time.h"
#include "engine/dispatch/retry_schedule.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <random>

namespace sunbeam {

using namespace std::chrono_literals;

// Where a job came from decides how it is let go once settled.
struct DispatchRole::Job {
  Delivery delivery;
  enum class Origin { kafka, deferral } origin = Origin::kafka;
  kafka::PartitionOffset position;     // Origin::kafka: the record's topic, partition and offset
  std::int64_t first_attempt_ms = 0;   // bounds the retry age
  bool maybe_admitted = true;          // false: a record this store never admitted (read_marks.h), written once
  std::string connector;               // the connector it went to (set when sent)
  std::chrono::steady_clock::time_point handed_over{};  // to the connector, for the send latency
};

struct DispatchRole::Lane {
  Lane(Connector& c, TokenBucket& b, const ConnectorConfig& cc, const Clock& clock)
      : connector(&c), bucket(&b), config(cc), breaker(cc.breaker, clock) {}

  Connector* connector;
  TokenBucket* bucket;
  const ConnectorConfig& config;  // rate, concurrency, retry, breaker, cost_per_part
  CircuitBreaker breaker;
  Lane* fallback = nullptr;  // for the channels routed here, when the breaker is open

  mutable std::mutex mutex;
  std::condition_variable wake;
  SendQueue<Job> queue;
  int in_flight = 0;
  bool stopping = false;
  std::atomic<bool> suspended{false};       // an operator's order: send nothing, keep the queue
  std::uint64_t seen_cancel_generation = 0;  // the cancellations this queue was purged of
  std::atomic<std::uint64_t> sent{0}, failed{0};
  metrics::Histogram* send_latency = nullptr;  // when metrics are attached
  OutcomeCounters outcomes;
  std::thread thread;

  void push(Job job, const Config& config) {
    SendPriority p;
    p.urgent = job.delivery.priority == Priority::urgent;
    p.tier_rank = int(config.tier_index(job.delivery.tier).value_or(config.tiers.size()));
    {
      std::lock_guard lock(mutex);
      queue.push(p, std::move(job));
    }
    wake.notify_one();
  }
};

namespace {

// Fan-out writes a delivery once (Kafka transactions); a replay or a digest
// run may write the same delivery again, at a new offset (a replay item or a
// digest produced but not yet marked when the process stopped: replay_service.cpp,
// digest_role.cpp). Such a record is looked up in the ledger wherever it lies.
bool may_be_produced_again(const Delivery& d) { return d.attempts_before > 0 || d.event_type == "digest"; }

SentLedger::Key ledger_key(const Delivery& d) {
  return {d.event_id, d.account, to_string(d.channel), d.delivery_id};
}

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::filesystem::path dispatch_store_path(const Config& config) {
  return config.storage / (config.kafka.instance_id + "-dispatch.sqlite");
}

DispatchRole::DispatchRole(const Config& config, const TemplateSet& templates, const Connectors& connectors,
                           kafka::ClientSettings settings, kafka::Topics topics, const Clock& clock)
    : config_(config), renderer_(config, templates), connectors_(connectors), settings_(std::move(settings)),
      topics_(std::move(topics)), clock_(clock) {}

DispatchRole::~DispatchRole() { stop(); }

void DispatchRole::attach_metrics(metrics::Registry& registry) {
  // Seconds: sub-millisecond for the outbox, seconds for a slow gateway.
  const auto latency = metrics::exponential_buckets(0.001, 2.5, 12);
  outcomes_ = &registry.counter("sunbeam_dispatch_outcomes_total",
                                "Dispatch outcomes: sent, failed, retried, deferred, expired, capped, cancelled.",
                                {"connector", "outcome"});
  send_latency_ = &registry.histogram("sunbeam_send_latency_seconds",
                                      "From handing a message to the connector to its answer.", {"connector"}, latency);
  publish_to_send_ = &registry.histogram("sunbeam_publish_to_send_seconds",
                                         "From the event's acceptance by ingest to the connector's acceptance.",
                                         {"tier", "channel"}, metrics::exponential_buckets(0.01, 2.5, 14));
  registry.add_collector([this](metrics::MetricsWriter& w) {
    auto& breaker = w.gauge("sunbeam_connector_breaker_state", "0 closed, 1 half-open, 2 open.", {"connector"});
    auto& suspended = w.gauge("sunbeam_connector_suspended", "1 while an operator has the connector suspended.",
                              {"connector"});
    auto& queued = w.gauge("sunbeam_connector_queued", "Deliveries waiting in the connector's send queue.", {"connector"});
    for (const auto& c : connector_states()) {
      breaker.add({c.name}, c.breaker == "open" ? 2 : c.breaker == "half_open" ? 1 : 0);
      suspended.add({c.name}, c.suspended ? 1 : 0);
      queued.add({c.name}, double(c.queued));
    }
  });
}

// The children every send touches, once the lanes exist.
void DispatchRole::cache_metrics() {
  if (send_latency_)
    for (auto& [name, lane] : lanes_) lane->send_latency = &send_latency_->with({name});
  if (publish_to_send_)
    for (const auto& tier : config_.tiers)
      for (Channel ch : all_channels) publish_to_send_by_group_.push_back(&publish_to_send_->with({tier, std::string(to_string(ch))}));
}

metrics::Histogram* DispatchRole::publish_to_send_for(const Delivery& d) {
  if (!publish_to_send_) return nullptr;
  const auto tier = config_.tier_index(d.tier);
  if (tier && *tier * all_channels.size() + std::size_t(d.channel) < publish_to_send_by_group_.size())
    return publish_to_send_by_group_[*tier * all_channels.size() + std::size_t(d.channel)];
  return &publish_to_send_->with({d.tier, std::string(to_string(d.channel))});
}

void DispatchRole::count_outcome(const StatusRecord& r) {
  if (!outcomes_) return;
  const bool retried = r.state == DeliveryState::deferred && r.reason.starts_with("retry");
  const auto outcome_name = [&]() -> std::string {
    if (retried) return "retried";
    if (r.state == DeliveryState::suppressed) return "capped";  // the only suppression dispatch makes
    return std::string(to_string(r.state));
  };
  OutcomeCounters* counters = r.connector.empty() ? &unrouted_outcomes_ : nullptr;
  if (const auto it = lanes_.find(r.connector); it != lanes_.end()) counters = &it->second->outcomes;
  if (!counters) return outcomes_->with({r.connector, outcome_name()}).inc();  // a connector no longer configured
  auto& slot = counters->by_outcome[retried ? delivery_state_count : std::size_t(r.state)];
  metrics::Counter* counter = slot.load(std::memory_order_relaxed);
  if (!counter) {
    counter = &outcomes_->with({r.connector, outcome_name()});  // the registry returns the same child to a racer
    slot.store(counter, std::memory_order_relaxed);
  }
  counter->inc();
}

DispatchRole::Lane* DispatchRole::lane_for(Channel channel) const {
  const auto it = routes_.find(channel);
  return it == routes_.end() ? nullptr : it->second;
}

Result<void> DispatchRole::start() {
  // Group commit (dispatch.ledger_batch, ledger_interval): the store is flushed
  // before every offset commit (commit_finished, poll_receipts), so what Kafka
  // forgets is always in the store first. The page cache is a limit, filled
  // as the store grows: the ledger's and the caps' B-trees of a 1,000,000
  // fan-out outgrow 64 MiB (status_index.cpp says what 256 MiB measured).
  const auto group_age = std::chrono::duration_cast<std::chrono::milliseconds>(config_.dispatch.ledger_interval);
  std::error_code exists_error;
  const bool existing_store = std::filesystem::exists(dispatch_store_path(config_), exists_error) || exists_error;
  auto db = SqliteDb::open(dispatch_store_path(config_), {.group_writes = config_.dispatch.ledger_batch,
                                                          .group_age = group_age, .exclusive = true,
                                                          .cache_mib = 256});
  if (!db) return db.error();
  db_ = *db;
  auto ledger = SentLedger::open(db_, std::size_t(config_.dispatch.ledger_batch), group_age);
  if (!ledger) return ledger.error();
  ledger_ = std::move(*ledger);
  auto deferrals = DeferralStore::open(db_);
  if (!deferrals) return deferrals.error();
  deferrals_ = std::move(*deferrals);
  auto caps = DailyCaps::open(db_);
  if (!caps) return caps.error();
  caps_ = std::move(*caps);
  auto receipts = ReceiptBook::open(db_, unix_ms(clock_.now()));
  if (!receipts) return receipts.error();
  receipts_ = std::move(*receipts);
  // A send's receipt rows are written before, so committed no later than, its ledger row.
  ledger_->write_first([this](const std::unique_lock<std::mutex>& held) { return receipts_->write_pending(held); });
  auto marks = ReadMarks::open(db_, existing_store);
  if (!marks) return marks.error();
  marks_ = std::move(*marks);
  forget_old_rows();  // then hourly (consume_loop)

  {
    std::lock_guard lock(suspend_mutex_);
    for (Connector* c : connectors_.all()) {
      const ConnectorConfig* cc = config_.connector(c->name());
      if (!cc) return make_error("connector_unknown", "connector " + c->name() + " is not in the configuration");
      auto lane = std::make_unique<Lane>(*c, connectors_.bucket(c->name()), *cc, clock_);
      lane->suspended = suspended_.contains(c->name());
      lanes_.emplace(c->name(), std::move(lane));
    }
  }
  for (Channel ch : {Channel::sms, Channel::email}) {
    Connector* primary = connectors_.for_channel(ch);
    if (!primary) continue;
    Lane* lane = lanes_.at(primary->name()).get();
    routes_[ch] = lane;
    if (Connector* fb = connectors_.fallback_for(ch)) lane->fallback = lanes_.at(fb->name()).get();
  }
  cache_metrics();

  auto consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "dispatch",
                                                      config_.kafka.instance_id + "-dispatch", true},
                                          config_.kafka.instance_id);
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  auto urgent_consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "dispatch-urgent",
                                                             config_.kafka.instance_id + "-dispatch-urgent", true},
                                                 config_.kafka.instance_id);
  if (!urgent_consumer) return urgent_consumer.error();
  urgent_consumer_ = std::move(*urgent_consumer);
  // Receipts are matched against this instance's store, so each instance
  // reads all of them (its own group) and ignores what it did not send.
  auto receipt_consumer = kafka::Consumer::create(
      settings_, {config_.kafka.instance_id + "-receipts", config_.kafka.instance_id + "-receipts", true},
      config_.kafka.instance_id);
  if (!receipt_consumer) return receipt_consumer.error();
  receipt_consumer_ = std::move(*receipt_consumer);
  auto producer = kafka::Producer::create(settings_, config_.kafka.instance_id + "-dispatch-status",
                                          kafka::Producer::Mode::idempotent);
  if (!producer) return producer.error();
  producer_ = std::move(*producer);
  if (auto r = producer_->warm_up(topics_.status, 30s); !r) return r.error();
  consumer_->ring_on_arrival(&arrivals_);
  urgent_consumer_->ring_on_arrival(&arrivals_);
  if (auto r = consumer_->subscribe(topics_.deliveries); !r) return r.error();
  if (auto r = urgent_consumer_->subscribe({topics_.urgent}); !r) return r.error();
  if (auto r = receipt_consumer_->subscribe({topics_.receipts}); !r) return r.error();

  running_ = true;
  for (auto& [name, lane] : lanes_) {
    Lane* l = lane.get();
    l->thread = std::thread([this, l] { send_loop(*l); });
  }
  ledger_->write_in_background();
  consumer_thread_ = std::thread([this] { consume_loop(); });
  return {};
}

void DispatchRole::stop() {
  if (!running_.exchange(false)) return;
  consumer_thread_.join();
  // Let sends in flight finish (their completions record them); what is still
  // queued stays uncommitted in Kafka, or in the deferral store, for next time.
  for (auto& [name, lane] : lanes_) {
    {
      std::lock_guard lock(lane->mutex);
      lane->stopping = true;
    }
    lane->wake.notify_all();
  }
  for (auto& [name, lane] : lanes_) lane->thread.join();
  const auto deadline = std::chrono::steady_clock::now() + config_.dispatch.drain_timeout;
  for (auto& [name, lane] : lanes_) {
    std::unique_lock lock(lane->mutex);
    lane->wake.wait_until(lock, deadline, [&] { return lane->in_flight == 0; });
    if (lane->in_flight > 0) spdlog::warn("dispatch: {} sends to {} still in flight at stop", lane->in_flight, name);
  }
  if (auto r = producer_->flush(30s); !r) spdlog::error("dispatch: {}", r.error().message);
  commit_finished();
  ledger_->stop_writing();
  consumer_->close();
  urgent_consumer_->close();
  receipt_consumer_->close();
  producer_.reset();
  consumer_.reset();
  urgent_consumer_.reset();
  receipt_consumer_.reset();
}

std::vector<ConnectorState> DispatchRole::connector_states() const {
  std::vector<ConnectorState> out;
  for (const auto& [name, lane] : lanes_) {
    std::lock_guard lock(lane->mutex);
    out.push_back({name, std::string(lane->connector->kind()), std::string(to_string(lane->breaker.state())),
                   lane->suspended, lane->queue.size(), lane->in_flight, lane->sent, lane->failed});
  }
  return out;
}

// ---- operators' orders --------------------------------------------------------

void DispatchRole::cancel_event(const std::string& event_id) {
  {
    std::lock_guard lock(cancel_mutex_);
    if (!cancelled_events_.insert(event_id).second) return;
    cancels_to_apply_.push_back(event_id);
    ++cancel_generation_;
  }
  spdlog::info("dispatch: event {} cancelled: its deliveries not yet sent end cancelled", event_id);
  for (auto& [name, lane] : lanes_) lane->wake.notify_all();
}

bool DispatchRole::is_cancelled(const std::string& event_id) const {
  std::lock_guard lock(cancel_mutex_);
  return cancelled_events_.contains(event_id);
}

bool DispatchRole::suspend(const std::string& connector, bool suspended) {
  if (!config_.connector(connector)) return false;
  std::lock_guard lock(suspend_mutex_);
  const bool changed = suspended ? suspended_.insert(connector).second : suspended_.erase(connector) > 0;
  if (changed)
    spdlog::info("dispatch: connector {} {}", connector, suspended ? "suspended: its deliveries wait" : "resumed");
  if (const auto it = lanes_.find(connector); it != lanes_.end()) {
    it->second->suspended = suspended;
    it->second->wake.notify_all();
  }
  return true;
}

// The consumer thread brings a cancelled event's deferrals back through
// admit(), which ends them `cancelled` and removes them from the store.
void DispatchRole::apply_cancellations() {
  std::vector<std::string> events;
  {
    std::lock_guard lock(cancel_mutex_);
    events.swap(cancels_to_apply_);
  }
  for (const auto& event_id : events) {
    auto rows = deferrals_->of_event(event_id);
    if (!rows) {
      spdlog::error("dispatch: cancelling {}: {}", event_id, rows.error().message);
      continue;
    }
    for (auto& row : *rows) {
      {
        std::lock_guard lock(claimed_mutex_);
        if (!claimed_deferrals_.insert(row.delivery_id).second) continue;  // on its way: send() checks
      }
      auto delivery = parse_delivery(row.delivery_json);
      if (!delivery) continue;  // poll_deferrals reports and drops it
      Job job;
      job.delivery = std::move(*delivery);
      job.origin = Job::Origin::deferral;
      job.first_attempt_ms = row.first_attempt_ms;
      admit(std::move(job));
    }
  }
}

// Called by a lane's thread with its lock held; releases it while recording.
void DispatchRole::purge_cancelled(Lane& lane, std::unique_lock<std::mutex>& lock) {
  lane.seen_cancel_generation = cancel_generation_;
  auto jobs = lane.queue.take_if([this](const Job& j) { return is_cancelled(j.delivery.event_id); });
  if (jobs.empty()) return;
  lock.unlock();
  for (auto& job : jobs) {
    ++stats_.cancelled;
    (void)caps_->give_back(job.delivery.account, to_string(job.delivery.channel), job.delivery.delivery_id);
    auto r = record_for(job, DeliveryState::cancelled, "cancelled by an operator");
    finish(std::move(job), std::move(r));
  }
  lock.lock();
}

// ---- the consumer thread -------------------------------------------------

bool DispatchRole::fenced() const {
  for (const auto* c : {consumer_.get(), urgent_consumer_.get(), receipt_consumer_.get()})
    if (c && c->fenced()) return true;
  return false;
}

std::vector<kafka::PartitionLag> DispatchRole::consumer_lag() const {
  std::vector<kafka::PartitionLag> out;
  for (const auto* c : {consumer_.get(), urgent_consumer_.get()}) {
    if (!c) continue;
    auto lag = c->lag();
    out.insert(out.end(), std::make_move_iterator(lag.begin()), std::make_move_iterator(lag.end()));
  }
  return out;
}

kafka::Consumer& DispatchRole::consumer_for(const std::string& topic) {
  return topic == topics_.urgent ? *urgent_consumer_ : *consumer_;
}

// What the store no longer needs. The cap's places of days no time zone is
// still in: local days run from UTC-12 to UTC+14, so a day ended everywhere
// once UTC is two days past it. The ledger's sends of events last sent longer
// ago than dispatch.ledger_retention. The receipt book's days that ended
// longer ago than dispatch.receipt_retention.
void DispatchRole::forget_old_rows() {
  const auto now = clock_.now();
  auto day = local_day(now - 48h, "UTC");
  if (!day) spdlog::error("dispatch: {}", day.error().message);
  else if (auto r = caps_->forget_before(*day); !r)
    spdlog::error("dispatch: forgetting cap days: {}", r.error().message);
  const auto retention = std::chrono::duration_cast<std::chrono::milliseconds>(config_.dispatch.ledger_retention);
  if (auto r = ledger_->forget_before(unix_ms(now) - retention.count()); !r)
    spdlog::error("dispatch: forgetting old sends: {}", r.error().message);
  else if (*r > 0)
    spdlog::info("dispatch: the ledger forgot {} sends older than {} h", *r,
                 std::chrono::duration_cast<std::chrono::hours>(retention).count());
  const auto receipt_retention =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.dispatch.receipt_retention);
  if (auto r = receipts_->forget_before(unix_ms(now) - receipt_retention.count()); !r)
    spdlog::error("dispatch: forgetting old receipt expectations: {}", r.error().message);
  else if (*r > 0)
    spdlog::info("dispatch: the receipt book forgot {} day(s) of sends older than {} h: receipts for them are ignored",
                 *r, std::chrono::duration_cast<std::chrono::hours>(receipt_retention).count());
}

void DispatchRole::consume_loop() {
  auto last_housekeeping = std::chrono::steady_clock::now() - 1h;
  auto last_forget = std::chrono::steady_clock::now();  // start() forgot just now
  // A batch never overshoots the backpressure bound by more than itself.
  const std::size_t batch_max = std::min<std::size_t>(500, std::size_t(config_.dispatch.max_pending));
  while (running_) {
    // Urgent first, then the tiers, neither waiting; when both had nothing,
    // wait for the first record on either (doorbell.h), at most 100 ms.
    auto urgent = urgent_consumer_->poll_batch(batch_max, 0ms);
    auto tiers = consumer_->poll_batch(batch_max, 0ms);
    const bool idle = urgent.empty() && tiers.empty();
    take_batch(*urgent_consumer_, std::move(urgent));
    take_batch(*consumer_, std::move(tiers));
    if (idle) arrivals_.wait(100ms);
    // The senders' accepted sends, written by this thread in one go (sent_ledger.h).
    if (auto r = ledger_->write_pending(SentLedger::Commit::when_due); !r)
      spdlog::error("dispatch: recording sends: {}", r.error().message);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_housekeeping >= 200ms) {
      last_housekeeping = now;
      apply_cancellations();
      poll_deferrals();
      poll_receipts();
      apply_backpressure();
      commit_finished();
    }
    if (now - last_forget >= 1h) {
      last_forget = now;
      forget_old_rows();
    }
  }
}

void DispatchRole::take_batch(kafka::Consumer& from, std::vector<kafka::Message> batch) {
  // Which records this store may have admitted before (re-read after a restart
  // or a rebalance), then the marks past the whole batch, before any of it is
  // admitted (read_marks.h).
  std::vector<char> maybe_admitted(batch.size());
  std::map<std::pair<std::string, int>, std::int64_t> last_offsets;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    maybe_admitted[i] = marks_->maybe_admitted(m.topic, m.partition, m.offset);
    auto& last = last_offsets[{m.topic, m.partition}];
    last = std::max(last, m.offset);
  }
  for (const auto& [where, offset] : last_offsets) {
    if (auto r = marks_->advance(where.first, where.second, offset, from.cached_end(where.first, where.second)); !r) {
      spdlog::error("dispatch: {} (the batch will be read again)", r.error().message);
      if (auto back = from.rewind(batch); !back) spdlog::error("dispatch: {}", back.error().message);
      return;
    }
  }
  std::vector<kafka::Message> put_back;  // fetched after its tier was paused: read again on resume
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& m = batch[i];
    if (paused_topics_.contains(m.topic)) {
      put_back.push_back(std::move(m));
      continue;
    }
    auto delivery = parse_delivery(m.value);
    if (!delivery) {
      // Not a delivery at all (written by something else): nothing to send, so let it go.
      spdlog::error("dispatch: skipping a record at {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                    delivery.error().message);
      offsets_.track(m.topic, m.partition, m.offset);
      offsets_.finish(m.topic, m.partition, m.offset);
      continue;
    }
    Job job;
    job.delivery = std::move(*delivery);
    job.position = {m.topic, m.partition, m.offset};
    job.first_attempt_ms = unix_ms(clock_.now());
    job.maybe_admitted = maybe_admitted[i] || may_be_produced_again(job.delivery);
    offsets_.track(m.topic, m.partition, m.offset);
    admit(std::move(job));
    if (offsets_.pending(m.topic) >= std::size_t(config_.dispatch.max_pending)) apply_backpressure();
  }
  if (!put_back.empty())
    if (auto r = from.rewind(put_back); !r) spdlog::error("dispatch: {}", r.error().message);
}

std::string DispatchRole::time_zone_of(const Delivery& d) const {
  return d.recipient.timezone.empty() ? config_.defaults.timezone : d.recipient.timezone;
}

void DispatchRole::admit(Job job) {
  const Delivery& d = job.delivery;
  if (!job.maybe_admitted) {
    // Never admitted through this store: neither sent nor deferred by it.
  } else if (auto sent = ledger_->find(ledger_key(d))) {
    // Sent before (its offset not committed at a restart, or the same delivery
    // produced again): record it again, send nothing.
    ++stats_.skipped_as_sent;
    auto r = record_for(job, DeliveryState::sent, "already sent (ledger)");
    r.connector = sent->connector;
    r.gateway_message_id = sent->gateway_message_id;
    return finish(std::move(job), std::move(r));
  } else if (job.origin == Job::Origin::kafka && deferrals_->find(d.delivery_id)) {
    // Deferred before a restart: the store has it now, and will bring it back when due.
    offsets_.finish(job.position.topic, job.position.partition, job.position.offset);
    return;
  }
  if (is_cancelled(d.event_id)) {
    ++stats_.cancelled;
    return finish(std::move(job), record_for(job, DeliveryState::cancelled, "cancelled by an operator"));
  }
  const auto now = clock_.now();
  if (d.expires_at_ms && unix_ms(now) >= *d.expires_at_ms) {
    ++stats_.expired;
    return finish(std::move(job), record_for(job, DeliveryState::expired, "expires_at passed"));
  }
  const std::string tz = time_zone_of(d);
  if (d.priority != Priority::urgent) {
    const auto window = d.recipient.quiet_hours ? d.recipient.quiet_hours : config_.defaults.quiet_hours;
    auto until = quiet_until(now, tz, window);
    if (!until) {
      spdlog::warn("dispatch: delivery {}: {}; quiet hours not applied", d.delivery_id, until.error().message);
    } else if (*until) {
      if (d.expires_at_ms && unix_ms(**until) >= *d.expires_at_ms) {
        ++stats_.expired;
        return finish(std::move(job), record_for(job, DeliveryState::expired, "expires_at falls in quiet hours"));
      }
      ++stats_.deferred;
      return defer(std::move(job), **until, "quiet_hours", "quiet_hours until " + format_rfc3339_utc(unix_ms(**until)),
                   Deferred::same_attempt);
    }
    if (const auto cap = config_.caps.find(d.channel); cap != config_.caps.end()) {
      auto day = local_day(now, tz);
      auto taken = day ? caps_->try_take(d.account, to_string(d.channel), *day, d.delivery_id, cap->second)
                       : Result<bool>(true);
      if (!taken) {
        spdlog::error("dispatch: daily cap of {}: {}", d.delivery_id, taken.error().message);
      } else if (!*taken) {
        ++stats_.capped;
        return finish(std::move(job), record_for(job, DeliveryState::suppressed, "cap"));
      }
    }
  }
  Lane* lane = lane_for(d.channel);
  if (!lane) {
    const std::string error = "no connector is routed for " + std::string(to_string(d.channel));
    auto r = record_for(job, DeliveryState::failed, error);
    return fail(std::move(job), std::move(r), error);
  }
  lane->push(std::move(job), config_);
}

void DispatchRole::poll_deferrals() {
  // Bring back what fell due, unless the send queues are already full.
  std::size_t queued = 0;
  for (auto& [name, lane] : lanes_) {
    std::lock_guard lock(lane->mutex);
    queued += lane->queue.size();
  }
  if (queued >= std::size_t(config_.dispatch.max_pending)) return;
  auto due = deferrals_->due(unix_ms(clock_.now()), 1000);
  if (!due) {
    spdlog::error("dispatch: {}", due.error().message);
    return;
  }
  for (auto& row : *due) {
    {
      std::lock_guard lock(claimed_mutex_);
      if (!claimed_deferrals_.insert(row.delivery_id).second) continue;  // already on its way
    }
    auto delivery = parse_delivery(row.delivery_json);
    if (!delivery) {
      spdlog::error("dispatch: dropping an unreadable deferral {}: {}", row.delivery_id, delivery.error().message);
      (void)deferrals_->remove(row.delivery_id);
      continue;
    }
    Job job;
    job.delivery = std::move(*delivery);
    job.origin = Job::Origin::deferral;
    job.first_attempt_ms = row.first_attempt_ms;
    admit(std::move(job));
  }
}

void DispatchRole::poll_receipts() {
  auto batch = receipt_consumer_->poll_batch(500, 0ms);
  if (batch.empty()) return;
  for (const auto& m : batch) {
    auto rec = parse_receipt_record(m.value);
    if (!rec) {
      spdlog::error("dispatch: skipping a receipt record: {}", rec.error().message);
      continue;
    }
    auto settled = receipts_->apply(rec->receipt);
    if (!settled) {
      spdlog::info("dispatch: receipt from {} ignored: {}", rec->connector, settled.error().message);
      continue;
    }
    if (!*settled) continue;
    auto record = parse_status_record((*settled)->record_json);
    if (!record || !record->delivery) continue;
    StatusRecord r = *record->delivery;
    r.state = (*settled)->outcome == ReceiptOutcome::delivered ? DeliveryState::delivered : DeliveryState::undelivered;
    r.reason = rec->receipt.detail;
    r.time_ms = rec->received_ms ? rec->received_ms : unix_ms(clock_.now());
    ++stats_.receipts;
    produce_then(topics_.status, r.event_id, serialize(r), {});
  }
  // Receipts are few: wait for their records, then move on.
  if (auto r = producer_->flush(30s); !r) {
    spdlog::error("dispatch: receipts not recorded, will re-read: {}", r.error().message);
    (void)receipt_consumer_->rewind(batch);
    return;
  }
  if (auto r = db_->flush(); !r) {
    spdlog::error("dispatch: receipts not stored, will re-read: {}", r.error().message);
    (void)receipt_consumer_->rewind(batch);
    return;
  }
  if (auto r = receipt_consumer_->commit(batch); !r) spdlog::error("dispatch: {}", r.error().message);
}

void DispatchRole::apply_backpressure() {
  // The `pause` policy: stop reading a tier whose unfinished deliveries reach
  // max_pending, read again once half of them are done. Kafka keeps the rest.
  const std::size_t high = std::size_t(config_.dispatch.max_pending), low = high / 2;
  for (const auto& topic : topics_.dispatch_reads()) {
    const std::size_t pending = offsets_.pending(topic);
    const bool paused = paused_topics_.contains(topic);
    if (!paused && pending >= high) {
      if (consumer_for(topic).pause(topic)) {
        paused_topics_.insert(topic);
        ++stats_.pauses;
        spdlog::info("dispatch: {} unfinished deliveries from {}: pausing it", pending, topic);
      }
    } else if (paused && pending <= low) {
      if (consumer_for(topic).resume(topic)) {
        paused_topics_.erase(topic);
        spdlog::info("dispatch: resuming {}", topic);
      }
    }
  }
}

void DispatchRole::commit_finished() {
  // The sends of the deliveries whose offsets are finished were recorded
  // before they finished (settle, then finish): written here into the group
  // the flush below commits, before Kafka is told.
  if (auto r = ledger_->write_pending(SentLedger::Commit::when_due); !r) {
    spdlog::error("dispatch: {} (offsets not committed: the deliveries will be read again)", r.error().message);
    return;
  }
  if (auto r = db_->flush(); !r) {
    spdlog::error("dispatch: {} (offsets not committed: the deliveries will be read again)", r.error().message);
    return;
  }
  // Each topic's offsets go to the group that reads it.
  std::map<kafka::Consumer*, std::vector<kafka::PartitionOffset>> by_consumer;
  for (auto& p : offsets_.take_commits()) by_consumer[&consumer_for(p.topic)].push_back(std::move(p));
  for (const auto& [consumer, positions] : by_consumer)
    if (auto r = consumer->commit(positions); !r) spdlog::error("dispatch: {}", r.error().message);
}

// ---- the connectors' threads ----------------------------------------------

void DispatchRole::send_loop(Lane& lane) {
  std::unique_lock lock(lane.mutex);
  while (true) {
    const auto ready = [&] {
      return !lane.suspended && !lane.queue.empty() && lane.in_flight < lane.config.concurrency;
    };
    const auto cancels = [&] { return lane.seen_cancel_generation != cancel_generation_; };
    lane.wake.wait_for(lock, 100ms, [&] { return lane.stopping || ready() || cancels(); });
    if (lane.stopping) return;
    if (cancels()) purge_cancelled(lane, lock);
    if (!ready()) continue;
    // Hold the connector's rate. This thread is the connector's own sender,
    // not an event loop: waiting here is what the rate means.
    if (const auto wait = lane.bucket->take(); wait.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(wait, 50ms));
      lock.lock();
      continue;
    }
    if (!lane.breaker.allow()) {
      // Open: hand the most urgent delivery to the fallback, or wait. Half-open
      // (a probe in flight): wait for the probe, which decides for the rest.
      if (lane.breaker.state() == CircuitBreaker::State::open && lane.fallback &&
          lane.fallback->breaker.state() != CircuitBreaker::State::open) {
        auto job = lane.queue.pop();
        lock.unlock();
        if (job) lane.fallback->push(std::move(*job), config_);
        lock.lock();
      } else {
        lane.wake.wait_for(lock, 100ms, [&] { return lane.stopping; });
      }
      continue;
    }
    auto job = lane.queue.pop();
    if (!job) continue;
    ++lane.in_flight;
    lock.unlock();
    send(lane, std::move(*job));
    lock.lock();
  }
}

void DispatchRole::send(Lane& lane, Job job) {
  const auto release = [&lane] {
    {
      std::lock_guard lock(lane.mutex);
      --lane.in_flight;
    }
    lane.wake.notify_all();
  };
  const Delivery& d = job.delivery;
  job.connector = lane.connector->name();
  if (is_cancelled(d.event_id)) {  // cancelled after it was queued
    ++stats_.cancelled;
    release();
    (void)caps_->give_back(d.account, to_string(d.channel), d.delivery_id);
    return finish(std::move(job), record_for(job, DeliveryState::cancelled, "cancelled by an operator"));
  }
  // A delivery may have waited in the queue: never send it late.
  if (d.expires_at_ms && unix_ms(clock_.now()) >= *d.expires_at_ms) {
    ++stats_.expired;
    release();
    (void)caps_->give_back(d.account, to_string(d.channel), d.delivery_id);
    return finish(std::move(job), record_for(job, DeliveryState::expired, "expires_at passed"));
  }
  auto message = renderer_.render(d);
  if (!message) {
    release();
    auto r = record_for(job, DeliveryState::failed, message.error().code + ": " + message.error().message);
    return fail(std::move(job), std::move(r), message.error().message);
  }
  if (lane.connector->takes_receipts()) {
    // Written before submit, so a receipt finds the delivery however early it comes.
    auto base = record_for(job, DeliveryState::sent, {});
    base.parts = message->parts;
    receipts_->expect(d.delivery_id, serialize(base), message->parts, unix_ms(clock_.now()));
  }
  const int parts = message->parts;
  job.handed_over = std::chrono::steady_clock::now();
  lane.connector->send(std::move(*message), [this, &lane, job = std::move(job), parts, release](SendOutcome outcome) mutable {
    settle(lane, std::move(job), parts, std::move(outcome));
    release();
  });
}

void DispatchRole::settle(Lane& lane, Job job, int parts, SendOutcome outcome) {
  const Delivery& d = job.delivery;
  if (lane.send_latency)
    lane.send_latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - job.handed_over).count());
  if (outcome.accepted()) {
    lane.breaker.on_success();
    const auto now_ms = unix_ms(clock_.now());
    // The alias first: the ledger's commit (this record may make one) takes it along.
    receipts_->alias(outcome.gateway_message_id, d.delivery_id, now_ms);
    if (auto l = ledger_->record(ledger_key(d), {now_ms, lane.connector->name(), outcome.gateway_message_id}); !l)
      spdlog::error("dispatch: {} (delivery {} was sent)", l.error().message, d.delivery_id);
    ++stats_.sent;
    ++lane.sent;
    auto r = record_for(job, DeliveryState::sent, {});
    r.gateway_message_id = std::move(outcome.gateway_message_id);
    r.parts = parts;
    r.cost_per_part = d.channel == Channel::sms ? lane.config.cost_per_part : 0;
    if (auto* h = publish_to_send_for(d); h && d.published_at_ms > 0)
      h->observe(double(std::max<std::int64_t>(0, now_ms - d.published_at_ms)) / 1000.0);
    return finish(std::move(job), std::move(r));
  }
  if (outcome.retryable()) lane.breaker.on_failure();
  const std::string error = std::string(to_string(outcome.failure)) + ": " + outcome.error;
  const RetryPolicy& policy = lane.config.retry;
  const auto now = clock_.now();
  const auto age = std::chrono::milliseconds(unix_ms(now) - job.first_attempt_ms);
  if (outcome.retryable()) {
    if (auto delay = next_retry(policy, d.attempt - d.attempts_before, age, jitter())) {
      ++stats_.retried;
      const std::string reason = "retry " + std::to_string(d.attempt - d.attempts_before + 1) + " of " + std::to_string(policy.max_attempts) +
                                 " after " + error;
      return defer(std::move(job), now + *delay, "retry: " + error, reason, Deferred::for_retry);
    }
  }
  (void)caps_->give_back(d.account, to_string(d.channel), d.delivery_id);  // not sent: the customer's quota is not used
  ++lane.failed;
  auto r = record_for(job, DeliveryState::failed, error);
  return fail(std::move(job), std::move(r), error);
}

// ---- outcomes ---------------------------------------------------------------

StatusRecord DispatchRole::record_for(const Job& job, DeliveryState state, std::string reason) const {
  const Delivery& d = job.delivery;
  StatusRecord r;
  r.delivery_id = d.delivery_id;
  r.event_id = d.event_id;
  r.event_type = d.event_type;
  r.account = d.account;
  r.channel = std::string(to_string(d.channel));
  r.connector = job.connector;
  r.tier = d.tier;
  r.attempt = d.attempt;
  r.state = state;
  // Gateways' errors may quote the number or address (SMTP: "550 <a@b.c>
  // unknown"): records are read by many, so personal data is masked (SPEC §7).
  r.reason = config_.privacy.mask_personal_data ? mask_text(reason) : std::move(reason);
  r.time_ms = unix_ms(clock_.now());
  return r;
}

void DispatchRole::produce_then(const std::string& topic, const std::string& key, std::string value,
                                std::function<void()> then) {
  // librdkafka retries a record until message.timeout.ms; if it still fails,
  // produce it again: the delivery must not be let go without its record.
  auto shared = std::make_shared<std::string>(std::move(value));
  auto report = [this, topic, key, shared, then = std::move(then)](Result<void> r) mutable {
    if (r) {
      if (then) then();
      return;
    }
    spdlog::error("dispatch: a record to {} failed ({}); producing it again", topic, r.error().message);
    produce_then(topic, key, std::move(*shared), std::move(then));
  };
  if (auto r = producer_->produce(topic, key, *shared, std::move(report)); !r)
    spdlog::error("dispatch: cannot produce to {}: {}", topic, r.error().message);
}

std::function<void()> DispatchRole::let_go_of(const Job& job, bool keep_deferral) {
  return [this, origin = job.origin, position = job.position, id = job.delivery.delivery_id, keep_deferral] {
    if (origin == Job::Origin::kafka) {
      offsets_.finish(position.topic, position.partition, position.offset);
      return;
    }
    if (!keep_deferral)
      if (auto r = deferrals_->remove(id); !r) spdlog::error("dispatch: {}", r.error().message);
    std::lock_guard lock(claimed_mutex_);
    claimed_deferrals_.erase(id);
  };
}

// A digest delivery carries the items it folded (engine/digest): each item
// ends as its digest did, so the items' own events show their outcome.
void DispatchRole::record_digest_items(const Job& job, const StatusRecord& record) {
  const auto* items = job.delivery.data.if_contains("items");
  if (!items || !items->is_array()) return;
  for (const auto& item : items->get_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    const auto* id = o.if_contains("delivery_id");
    const auto* event = o.if_contains("event_id");
    if (!id || !id->is_string() || !event || !event->is_string()) continue;
    StatusRecord r = record;
    r.delivery_id = id->get_string();
    r.event_id = event->get_string();
    if (const auto* type = o.if_contains("event_type"); type && type->is_string()) r.event_type = type->get_string();
    r.reason = "digest " + record.delivery_id + (record.reason.empty() ? "" : ": " + record.reason);
    r.gateway_message_id.clear();
    r.parts = 0;
    produce_then(topics_.status, r.event_id, serialize(r), {});
  }
}

void DispatchRole::finish(Job job, StatusRecord record, bool keep_deferral) {
  count_outcome(record);
  if (job.delivery.event_type == "digest" && is_terminal(record.state)) record_digest_items(job, record);
  produce_then(topics_.status, record.event_id, serialize(record), let_go_of(job, keep_deferral));
}

void DispatchRole::defer(Job job, SystemTime until, std::string reason, std::string record_reason, Deferred kind) {
  Deferral row;
  row.delivery_id = job.delivery.delivery_id;
  row.due_ms = unix_ms(until);
  row.first_attempt_ms = job.first_attempt_ms;
  row.reason = std::move(reason);
  Delivery next = job.delivery;
  if (kind == Deferred::for_retry) ++next.attempt;  // the record below still names the attempt that failed
  row.delivery_json = serialize(next);
  if (auto r = deferrals_->put(row); !r) {
    // Not durable: keep the delivery unfinished (its offset uncommitted), so
    // a restart brings it back; say so loudly.
    spdlog::error("dispatch: cannot defer {}: {}", row.delivery_id, r.error().message);
    return;
  }
  auto record = record_for(job, DeliveryState::deferred, std::move(record_reason));
  finish(std::move(job), std::move(record), /*keep_deferral=*/true);
}

void DispatchRole::fail(Job job, StatusRecord record, const std::string& error) {
  ++stats_.failed;
  count_outcome(record);
  // The dead letter carries everything needed to understand and replay it.
  boost::json::object letter{{"delivery", to_json(job.delivery)},
                             {"connector", job.connector},
                             {"attempts", job.delivery.attempt},
                             {"last_error", config_.privacy.mask_personal_data ? mask_text(error) : error},
                             {"first_attempt_at", format_rfc3339_utc(job.first_attempt_ms)},
                             {"failed_at", format_rfc3339_utc(unix_ms(clock_.now()))}};
  // Let go only once both the dead letter and the status record are in Kafka.
  auto pending = std::make_shared<std::atomic<int>>(2);
  auto let_go = [pending, let_go = let_go_of(job, false)] {
    if (--*pending == 0) let_go();
  };
  produce_then(topics_.dlq, job.delivery.event_id, boost::json::serialize(letter), let_go);
  if (job.delivery.event_type == "digest") record_digest_items(job, record);
  produce_then(topics_.status, record.event_id, serialize(record), let_go);
}

}  // namespace sunbeam
