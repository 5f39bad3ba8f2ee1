#include "engine/control/control_reader.h"

#include <spdlog/spdlog.h>

namespace sunbeam {

using namespace std::chrono_literals;

ControlReader::ControlReader(kafka::ClientSettings settings, std::string topic, std::string client_id)
    : settings_(std::move(settings)), topic_(std::move(topic)), client_id_(std::move(client_id)) {}

ControlReader::~ControlReader() { stop(); }

void ControlReader::on_order(Handler handler) { handlers_.push_back(std::move(handler)); }

Result<void> ControlReader::start() {
  // Assign mode: the group id is required by librdkafka but no offsets are committed.
  auto consumer = kafka::Consumer::create(settings_, {client_id_ + "-unused-group", client_id_, true});
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  if (auto r = consumer_->assign_from_beginning(topic_); !r) return r.error();
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

Result<void> ControlReader::wait_caught_up(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!caught_up_) {
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("kafka", "the control topic " + topic_ + " could not be read to its end in time");
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

void ControlReader::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  consumer_.reset();
}

void ControlReader::run() {
  while (running_) {
    for (const auto& m : consumer_->poll_batch(500, 100ms)) {
      auto order = parse_control_record(m.value);
      if (!order) {
        spdlog::warn("control: skipping a record at {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                     order.error().message);
        continue;
      }
      for (const auto& handle : handlers_) handle(*order);
    }
    if (!caught_up_ && consumer_->caught_up()) caught_up_ = true;
  }
}

}  // namespace sunbeam

namespace sunbeam {

void OrdersInForce::apply(const ControlRecord& order) {
  std::lock_guard lock(mutex_);
  switch (order.kind) {
    case ControlKind::cancel: cancelled_.insert(order.target); break;
    case ControlKind::suspend: suspended_.insert(order.target); break;
    case ControlKind::resume: suspended_.erase(order.target); break;
    case ControlKind::digest_now: break;
  }
}

bool OrdersInForce::suspended(const std::string& connector) const {
  std::lock_guard lock(mutex_);
  return suspended_.contains(connector);
}

bool OrdersInForce::cancelled(const std::string& event_id) const {
  std::lock_guard lock(mutex_);
  return cancelled_.contains(event_id);
}

}  // namespace sunbeam
