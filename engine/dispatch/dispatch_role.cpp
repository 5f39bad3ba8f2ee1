#include "engine/dispatch/dispatch_role.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

namespace sunbeam {
namespace {

using namespace std::chrono_literals;

// Counts outstanding sends of a batch; the consumer thread waits on it.
class Countdown {
 public:
  void add() {
    std::lock_guard lock(m_);
    ++n_;
  }
  void done() {
    std::lock_guard lock(m_);
    if (--n_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return n_ == 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t n_ = 0;
};

}  // namespace

DispatchRole::DispatchRole(const Config& config, const TemplateSet& templates, const Connectors& connectors,
                           kafka::ClientSettings settings, kafka::Topics topics, const Clock& clock)
    : config_(config), renderer_(config, templates), connectors_(connectors), settings_(std::move(settings)),
      topics_(std::move(topics)), clock_(clock) {}

DispatchRole::~DispatchRole() { stop(); }

std::filesystem::path ledger_path(const Config& config) {
  return config.storage / (config.kafka.instance_id + "-dispatch-ledger.sqlite");
}

Result<void> DispatchRole::start() {
  auto ledger = SentLedger::open(ledger_path(config_));
  if (!ledger) return ledger.error();
  ledger_ = std::move(*ledger);
  auto consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "dispatch",
                                                      config_.kafka.instance_id + "-dispatch", true});
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  auto producer = kafka::Producer::create(settings_, config_.kafka.instance_id + "-dispatch-status",
                                          kafka::Producer::Mode::idempotent);
  if (!producer) return producer.error();
  producer_ = std::move(*producer);
  if (auto r = producer_->warm_up(topics_.status, 30s); !r) return r.error();
  if (auto r = consumer_->subscribe(topics_.deliveries); !r) return r.error();
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void DispatchRole::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  producer_.reset();
  consumer_.reset();
}

void DispatchRole::run() {
  while (running_) {
    auto batch = consumer_->poll_batch(deliveries_per_batch, 200ms);
    if (batch.empty()) continue;
    if (auto r = process(batch); !r) {
      spdlog::error("dispatch: {}; re-reading the batch of {}", r.error().message, batch.size());
      if (auto rw = consumer_->rewind(batch); !rw) spdlog::error("dispatch: {}", rw.error().message);
      std::this_thread::sleep_for(1s);
    }
  }
}

Result<void> DispatchRole::process(const std::vector<kafka::Message>& batch) {
  std::vector<StatusRecord> records(batch.size());
  std::vector<bool> has_record(batch.size(), false);
  Countdown outstanding;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto delivery = parse_delivery(batch[i].value);
    if (!delivery) {
      spdlog::error("dispatch: skipping a record at {}[{}]@{}: {}", batch[i].topic, batch[i].partition,
                    batch[i].offset, delivery.error().message);
      continue;
    }
    outstanding.add();
    has_record[i] = true;
    dispatch(*delivery, [&, i](StatusRecord r) {
      records[i] = std::move(r);
      outstanding.done();
    });
  }
  outstanding.wait();

  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!has_record[i]) continue;
    if (auto r = producer_->produce(topics_.status, records[i].event_id, serialize(records[i])); !r) return r.error();
  }
  // Records first, offsets after: a crash between the two re-reads the batch.
  if (auto r = producer_->flush(30s); !r) return r.error();
  return consumer_->commit(batch);
}

void DispatchRole::dispatch(const Delivery& d, std::function<void(StatusRecord)> done) {
  StatusRecord r;
  r.delivery_id = d.delivery_id;
  r.event_id = d.event_id;
  r.event_type = d.event_type;
  r.account = d.account;
  r.channel = std::string(to_string(d.channel));
  r.tier = d.tier;
  r.attempt = d.attempt;
  const auto finish = [&](DeliveryState state, std::string reason) {
    r.state = state;
    r.reason = std::move(reason);
    r.time_ms = unix_ms(clock_.now());
    done(std::move(r));
  };

  if (auto sent = ledger_->find(d.delivery_id)) {
    // Sent before a crash, its offset not committed: record it again, send nothing.
    ++stats_.skipped_as_sent;
    r.connector = sent->connector;
    r.gateway_message_id = sent->gateway_message_id;
    return finish(DeliveryState::sent, "already sent before a restart (ledger)");
  }
  if (d.expires_at_ms && unix_ms(clock_.now()) >= *d.expires_at_ms) {
    ++stats_.expired;
    return finish(DeliveryState::expired, "expires_at passed");
  }
  Connector* connector = connectors_.for_channel(d.channel);
  if (!connector) {
    ++stats_.failed;
    return finish(DeliveryState::failed, "no connector is routed for " + r.channel);
  }
  r.connector = connector->name();
  auto message = renderer_.render(d);
  if (!message) {
    ++stats_.failed;
    return finish(DeliveryState::failed, message.error().code + ": " + message.error().message);
  }
  r.parts = message->parts;
  // Hold the connector's rate. Waiting here is fine: this is dispatch's own
  // thread, not an event loop; the batch simply takes as long as the rate says.
  auto& bucket = connectors_.bucket(connector->name());
  for (auto wait = bucket.take(); wait.count() > 0; wait = bucket.take()) std::this_thread::sleep_for(wait);
  connector->send(std::move(*message), [this, r, done = std::move(done)](SendOutcome outcome) mutable {
    r.time_ms = unix_ms(clock_.now());
    if (outcome.accepted()) {
      if (auto l = ledger_->record(r.delivery_id, {r.time_ms, r.connector, outcome.gateway_message_id}); !l)
        spdlog::error("dispatch: {} (delivery {} was sent)", l.error().message, r.delivery_id);
      ++stats_.sent;
      r.state = DeliveryState::sent;
      r.gateway_message_id = std::move(outcome.gateway_message_id);
    } else {
      ++stats_.failed;
      r.state = DeliveryState::failed;
      r.reason = std::move(outcome.error);
    }
    done(std::move(r));
  });
}

}  // namespace sunbeam
