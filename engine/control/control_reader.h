// Reads the whole `control` topic, from its start and then as it grows, on
// one thread, and hands each order to the handlers registered before start().
// One reader per process serves every role in it (dispatch, digest, api).
//
// Handlers run on the reader's thread, in topic order per partition; they
// must be quick (record the order, wake a worker). An order is applied again
// after a restart: every handler is idempotent.
#pragma once

#include "engine/control/control_record.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/consumer.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace sunbeam {

class ControlReader {
 public:
  using Handler = std::function<void(const ControlRecord&)>;

  ControlReader(kafka::ClientSettings settings, std::string topic, std::string client_id);
  ~ControlReader();
  ControlReader(const ControlReader&) = delete;
  ControlReader& operator=(const ControlReader&) = delete;

  void on_order(Handler handler);  // before start()
  Result<void> start();
  // Waits (bounded) until every order already in the topic was handed out,
  // so a role starts with the suspensions and cancellations in force.
  Result<void> wait_caught_up(std::chrono::milliseconds timeout);
  void stop();

 private:
  void run();

  kafka::ClientSettings settings_;
  std::string topic_;
  std::string client_id_;
  std::vector<Handler> handlers_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::atomic<bool> caught_up_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sunbeam

namespace sunbeam {

// The orders in force, as the control topic says (the API's view: which
// connectors are suspended, which events cancelled). Thread-safe.
class OrdersInForce {
 public:
  void apply(const ControlRecord& order);
  bool suspended(const std::string& connector) const;
  bool cancelled(const std::string& event_id) const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> suspended_;
  std::set<std::string, std::less<>> cancelled_;
};

}  // namespace sunbeam
