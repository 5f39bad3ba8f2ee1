#include "engine/status/status_view.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace sunbeam {

using namespace std::chrono_literals;

StatusView::StatusView(const Config& config, kafka::ClientSettings settings, kafka::Topics topics)
    : config_(config), settings_(std::move(settings)), topics_(std::move(topics)) {}

StatusView::~StatusView() { stop(); }

Result<void> StatusView::start() {
  auto consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "status-view",
                                                      config_.kafka.instance_id + "-status-view", true});
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (auto r = consumer_->assign_from_beginning(topics_.status); !r) return r.error();
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void StatusView::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  consumer_.reset();
}

void StatusView::run() {
  while (running_) {
    auto batch = consumer_->poll_batch(1000, 100ms);
    for (const auto& m : batch) {
      auto record = parse_status_record(m.value);
      if (!record) {
        spdlog::warn("status: skipping a record at {}[{}]@{}: {}", m.topic, m.partition, m.offset, record.error().message);
        continue;
      }
      apply(*record);
    }
    if (!caught_up_ && consumer_->caught_up()) caught_up_ = true;
  }
}

// Delivery ids are 32 hex digits (make_delivery_id): kept as 128 bits, half
// the memory of the string, for views of millions of deliveries.
StatusView::DeliveryKey StatusView::key_of(const std::string& id) {
  DeliveryKey k{0, 0};
  if (id.size() >= 32) {
    std::from_chars(id.data(), id.data() + 16, k.hi, 16);
    std::from_chars(id.data() + 16, id.data() + 32, k.lo, 16);
  } else {
    k.hi = std::hash<std::string>{}(id);
  }
  return k;
}

void StatusView::apply(const StatusTopicRecord& record) {
  std::lock_guard lock(mutex_);
  if (record.fanout) {
    const auto& s = *record.fanout;
    events_.try_emplace(s.event_id, s.event_id).first->second.apply(s);
    return;
  }
  if (!record.delivery) return;
  const auto& r = *record.delivery;
  std::optional<DeliveryState> previous;
  auto [it, inserted] = deliveries_.try_emplace(key_of(r.delivery_id), r.state);
  if (!inserted) {
    // A receipt can be recorded before the `sent` record it answers (a fast
    // gateway; a re-recorded `sent` after a restart): the receipt's word stands.
    const bool receipt_first = (it->second == DeliveryState::delivered || it->second == DeliveryState::undelivered) &&
                               r.state == DeliveryState::sent;
    if (receipt_first) return;
    previous = it->second;
    it->second = r.state;
  }
  events_.try_emplace(r.event_id, r.event_id).first->second.apply(r, previous);
}

std::optional<EventStatus> StatusView::event(const std::string& event_id) const {
  std::lock_guard lock(mutex_);
  const auto it = events_.find(event_id);
  if (it == events_.end()) return std::nullopt;
  return it->second.status();
}

}  // namespace sunbeam
