#include "engine/fanout/fanout_role.h"

#include <spdlog/spdlog.h>

namespace sunbeam {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t events_per_transaction = 50;
constexpr auto txn_timeout = 60s;

}  // namespace

FanoutRole::FanoutRole(const Config& config, const Directory& directory, kafka::ClientSettings settings,
                       kafka::Topics topics, const Clock& clock)
    : config_(config), planner_(config, directory), settings_(std::move(settings)), topics_(std::move(topics)),
      clock_(clock) {}

FanoutRole::~FanoutRole() { stop(); }

Result<void> FanoutRole::connect() {
  producer_.reset();
  auto producer = kafka::Producer::create(settings_, config_.kafka.instance_id + "-fanout",
                                          kafka::Producer::Mode::transactional,
                                          config_.kafka.instance_id + "-fanout");
  if (!producer) return producer.error();
  producer_ = std::move(*producer);
  // Fences any earlier incarnation with our transactional.id and aborts its open transaction.
  if (auto r = producer_->init_transactions(txn_timeout); !r) return r.error();
  // Learn the partitions of every topic it writes now, not at an event's first
  // record to it: the first urgent alert after a start waited ~0.7 s for them.
  std::vector<std::string> writes = topics_.deliveries;
  writes.insert(writes.end(), {topics_.urgent, topics_.digest, topics_.status});
  for (const auto& topic : writes)
    if (auto r = producer_->warm_up(topic, txn_timeout); !r) return r.error();
  return {};
}

Result<void> FanoutRole::start() {
  auto consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "fanout",
                                                      config_.kafka.instance_id + "-fanout-consumer", true},
                                          config_.kafka.instance_id);
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (auto r = connect(); !r) return r.error();
  if (auto r = consumer_->subscribe({topics_.events}); !r) return r.error();
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void FanoutRole::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  producer_.reset();
  consumer_.reset();
}

void FanoutRole::run() {
  while (running_) {
    auto batch = consumer_->poll_batch(events_per_transaction, 200ms);
    if (batch.empty()) continue;
    auto done = process(batch);
    if (done) continue;
    ++stats_.aborted_batches;
    spdlog::warn("fanout: {}; the batch of {} events will be fanned out again", done.error().message, batch.size());
    if (done.error().code == "txn_fatal") {
      if (auto r = connect(); !r) spdlog::error("fanout: cannot reconnect: {}", r.error().message);
    } else if (auto r = producer_->abort_transaction(txn_timeout); !r) {
      spdlog::error("fanout: {}", r.error().message);
      if (auto c = connect(); !c) spdlog::error("fanout: cannot reconnect: {}", c.error().message);
    }
    if (auto r = consumer_->rewind(batch); !r) spdlog::error("fanout: {}", r.error().message);
    std::this_thread::sleep_for(500ms);
  }
}

Result<void> FanoutRole::process(const std::vector<kafka::Message>& batch) {
  if (auto r = producer_->begin_transaction(); !r) return r.error();
  for (const auto& message : batch) {
    if (!running_) return make_error("txn_abortable", "stopping");
    fan_out(message);
  }
  if (auto r = producer_->send_offsets_to_transaction(batch, *consumer_, txn_timeout); !r) return r.error();
  return producer_->commit_transaction(txn_timeout);
}

void FanoutRole::fan_out(const kafka::Message& message) {
  auto event = parse_event(message.value, config_);
  if (!event) {
    // Ingest validated it; it can fail here only if the config changed since
    // (a type removed) or a foreign producer wrote to the topic.
    spdlog::error("fanout: skipping a record at {}[{}]@{}: {}", message.topic, message.partition, message.offset,
                  event.error().message);
    return;
  }
  const auto now_ms = unix_ms(clock_.now());
  std::uint64_t produced = 0;
  auto summary = planner_.plan(*event, [&](PlannedDelivery&& p) {
    p.delivery.published_at_ms = message.timestamp_ms;
    const auto& d = p.delivery;
    if (p.state == DeliveryState::suppressed) {
      StatusRecord r;
      r.delivery_id = d.delivery_id;
      r.event_id = d.event_id;
      r.event_type = d.event_type;
      r.account = d.account;
      r.channel = d.delivery_id.empty() ? "" : std::string(to_string(d.channel));
      r.tier = d.tier;
      r.state = DeliveryState::suppressed;
      r.reason = p.reason;
      r.time_ms = now_ms;
      if (r.tier.empty()) r.channel.clear();  // unknown account: no tier, no channel
      (void)producer_->produce(topics_.status, d.event_id, serialize(r));
      return;
    }
    const auto& topic = p.state == DeliveryState::digest ? topics_.digest : topics_.deliveries_for(p.tier_index, d.priority);
    (void)producer_->produce(topic, d.account, serialize(d));
    ++produced;
  });
  summary.time_ms = now_ms;
  (void)producer_->produce(topics_.status, event->id, serialize(summary));
  ++stats_.events;
  stats_.deliveries += produced;
  spdlog::info("fanout: event {} ({}) -> {} deliveries", event->id, event->type, summary.total());
}

}  // namespace sunbeam
