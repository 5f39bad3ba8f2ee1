#include "engine/replay/replay_service.h"

#include "engine/core/delivery.h"

#include <spdlog/spdlog.h>

#include <random>

namespace sunbeam {

using namespace std::chrono_literals;

namespace {

// Items per produce round: their acknowledgements are awaited together and
// marked in one transaction.
constexpr std::size_t chunk_items = 1000;
// librdkafka retries a record until message.timeout.ms (default 300 s) on its
// own; a chunk not acknowledged by then is produced again on the next round.
constexpr auto ack_wait = 330s;

}  // namespace

ReplayService::ReplayService(StatusView& view, kafka::Producer& producer, kafka::Topics topics, const Config& config,
                             const Clock& clock)
    : view_(view), producer_(producer), topics_(std::move(topics)), config_(config), clock_(clock) {}

ReplayService::~ReplayService() { stop(); }

Result<void> ReplayService::resume() {
  if (running_) return {};
  auto* index = view_.index();
  if (!index) return make_error("replay_unavailable", "the status index is not open");
  auto store = ReplayStore::open(*index);
  if (!store) return store.error();
  store_ = std::move(*store);
  {
    std::lock_guard lock(mutex_);
    accepting_ = true;
    work_ = true;  // the items a previous run left unqueued
  }
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void ReplayService::stop() {
  if (!running_.exchange(false)) return;
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<void> ReplayService::check(const FailureSelector& selector) const {
  if (selector.empty() && !selector.all)
    return make_error("empty_selector",
                      "a replay needs a selector (event, since, until, connector or reason); replaying every failed "
                      "delivery takes \"all\": true",
                      "selector");
  if (!store_) return make_error("replay_unavailable", "replays are not running in this process");
  if (!view_.caught_up())
    return make_error("loading", "the status index is still reading the status topic; try again shortly");
  return {};
}

Result<std::int64_t> ReplayService::plan(const FailureSelector& selector) {
  if (auto r = check(selector); !r) return r.error();
  return store_->count(selector);
}

std::string ReplayService::new_replay_id() const {
  // "r-" + the time in base 36 + 16 random bits: short, sortable by time, and
  // two replays in the same millisecond still differ.
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  auto ms = std::uint64_t(unix_ms(clock_.now()));
  std::string time;
  do {
    time.insert(time.begin(), digits[ms % 36]);
    ms /= 36;
  } while (ms);
  std::random_device random;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", unsigned(random() & 0xffff));
  return "r-" + time + suffix;
}

Result<ReplayStarted> ReplayService::start(const FailureSelector& selector) {
  if (auto r = check(selector); !r) return r.error();
  return record(selector);
}

void ReplayService::start_async(const FailureSelector& selector, StartDone done) {
  if (auto r = check(selector); !r) return done(r.error());
  {
    std::unique_lock lock(mutex_);
    if (!accepting_) {
      lock.unlock();
      return done(make_error("replay_unavailable", "the engine is stopping"));
    }
    starts_.emplace_back(selector, std::move(done));
    work_ = true;
  }
  wake_.notify_all();
}

Result<ReplayStarted> ReplayService::record(const FailureSelector& selector) {
  ReplayStarted out{new_replay_id(), 0};
  auto matched = store_->create(out.replay_id, selector, unix_ms(clock_.now()));
  if (!matched) return matched.error();
  out.matched = *matched;
  spdlog::info("replay {}: {} failed deliveries to re-queue", out.replay_id, out.matched);
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_all();
  return out;
}

std::optional<ReplayProgress> ReplayService::progress(const std::string& replay_id) {
  if (!store_) return std::nullopt;
  return store_->progress(replay_id);
}

std::vector<ReplayProgress> ReplayService::recent(std::size_t limit) {
  if (!store_) return {};
  return store_->recent(limit);
}

void ReplayService::run() {
  while (running_) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return work_; });
      work_ = false;
    }
    while (running_) {
      decltype(starts_) starts;
      {
        std::lock_guard lock(mutex_);
        starts.swap(starts_);
      }
      for (auto& [selector, done] : starts) done(record(selector));
      const auto items = store_->unqueued(chunk_items);
      if (items.empty()) break;
      if (!produce(items)) {
        // Kafka refused or did not answer: wait a little (or for stop) and go again.
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, 1s, [this] { return !running_.load(); });
      }
    }
  }
  // Stopping: whoever still waits for a start gets an answer.
  decltype(starts_) starts;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    starts.swap(starts_);
  }
  for (auto& [selector, done] : starts) done(make_error("replay_unavailable", "the engine is stopping"));
}

bool ReplayService::produce(const std::vector<ReplayItem>& items) {
  struct Acks {
    std::mutex mutex;
    std::condition_variable done;
    std::vector<int> waiting;  // reports still due, per item
    std::vector<bool> failed;  // per item
    std::size_t outstanding = 0;
  };
  auto acks = std::make_shared<Acks>();
  acks->waiting.assign(items.size(), 0);
  acks->failed.assign(items.size(), false);
  std::vector<ReplayItem> refused;
  std::vector<bool> sent(items.size(), false);
  const auto now = unix_ms(clock_.now());

  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    auto delivery = parse_delivery(item.delivery_json);
    const auto tier = delivery ? config_.tier_index(delivery->tier) : std::nullopt;
    if (!delivery || !tier) {
      spdlog::warn("replay {}: cannot re-queue {}: {}", item.replay_id, item.delivery_id,
                   !delivery ? delivery.error().message : "its tier \"" + delivery->tier + "\" is not configured");
      refused.push_back(item);
      continue;
    }
    delivery->attempt = item.attempt;
    delivery->attempts_before = item.attempt - 1;  // a fresh retry budget (dispatch counts from here)
    StatusRecord planned;
    planned.delivery_id = delivery->delivery_id;
    planned.event_id = delivery->event_id;
    planned.event_type = delivery->event_type;
    planned.account = delivery->account;
    planned.channel = std::string(to_string(delivery->channel));
    planned.tier = delivery->tier;
    planned.attempt = delivery->attempt;
    planned.state = DeliveryState::planned;
    planned.reason = "replay " + item.replay_id;
    planned.time_ms = now;
    auto report = [acks, i](Result<void> r) {
      std::lock_guard lock(acks->mutex);
      if (!r) acks->failed[i] = true;
      --acks->waiting[i];
      if (--acks->outstanding == 0) acks->done.notify_all();
    };
    // The status record first: the index ignores a replay's `planned` that
    // arrives after the new attempt's outcome (status_index.h), so the order
    // in which the two land does not matter for correctness.
    const std::pair<const std::string*, std::pair<std::string, std::string>> records[] = {
        {&topics_.status, {planned.event_id, serialize(planned)}},
        {&topics_.deliveries_for(*tier, delivery->priority), {delivery->account, serialize(*delivery)}},
    };
    sent[i] = true;
    for (const auto& [topic, kv] : records) {
      {
        std::lock_guard lock(acks->mutex);
        ++acks->waiting[i];
        ++acks->outstanding;
      }
      if (auto r = producer_.produce(*topic, kv.first, kv.second, report); !r) {
        spdlog::warn("replay {}: cannot produce {} to {}: {}", item.replay_id, item.delivery_id, *topic,
                     r.error().message);
        std::lock_guard lock(acks->mutex);
        acks->failed[i] = true;
        --acks->waiting[i];
        --acks->outstanding;
      }
    }
  }

  std::vector<ReplayItem> queued;
  bool all_done = true;
  {
    // In slices, so stop() is not held up by a broker that does not answer.
    const auto deadline = std::chrono::steady_clock::now() + ack_wait;
    std::unique_lock lock(acks->mutex);
    while (acks->outstanding > 0 && running_ && std::chrono::steady_clock::now() < deadline)
      acks->done.wait_for(lock, 100ms);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!sent[i]) continue;
      if (acks->waiting[i] == 0 && !acks->failed[i]) queued.push_back(items[i]);
      else all_done = false;
    }
  }
  if (auto r = store_->mark(queued, ReplayStore::Outcome::queued); !r) {
    spdlog::error("replay: cannot record {} deliveries as queued: {}", queued.size(), r.error().message);
    all_done = false;
  }
  if (auto r = store_->mark(refused, ReplayStore::Outcome::refused); !r) {
    spdlog::error("replay: cannot record {} deliveries as refused: {}", refused.size(), r.error().message);
    all_done = false;
  }
  return all_done;
}

}  // namespace sunbeam
