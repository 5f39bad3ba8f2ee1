#include "engine/kafka/producer.h"

#include "engine/kafka/admin.h"
#include "engine/kafka/consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <map>

namespace sunbeam::kafka {
namespace {

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  std::unique_ptr<DeliveryReport> report(static_cast<DeliveryReport*>(m->_private));
  if (!report || !*report) return;
  if (m->err) {
    (*report)(make_error("kafka_produce", std::string("Kafka did not accept a record for ") +
                                              rd_kafka_topic_name(m->rkt) + ": " + rd_kafka_err2str(m->err)));
  } else {
    (*report)(Result<void>{});
  }
}

// Turns a librdkafka transaction error into our Error, taking ownership.
Error txn_error(rd_kafka_error_t* e, const char* what) {
  std::string code = rd_kafka_error_is_fatal(e)               ? "txn_fatal"
                     : rd_kafka_error_txn_requires_abort(e)   ? "txn_abortable"
                     : rd_kafka_error_is_retriable(e)         ? "txn_retriable"
                                                              : "txn_error";
  Error out = make_error(code, std::string(what) + ": " + rd_kafka_error_string(e));
  rd_kafka_error_destroy(e);
  return out;
}

}  // namespace

Result<std::unique_ptr<Producer>> Producer::create(const ClientSettings& settings, const std::string& client_id,
                                                   Mode mode, const std::string& transactional_id) {
  std::map<std::string, std::string> props{
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
      {"message.timeout.ms", "120000"},
  };
  if (mode == Mode::transactional) {
    props["transactional.id"] = transactional_id;
    // A large fan-out is one transaction: give it time.
    props["transaction.timeout.ms"] = "300000";
  }
  auto conf = settings.make_conf(props, client_id);
  if (!conf) return conf.error();
  rd_kafka_conf_set_dr_msg_cb(*conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(*conf);
    return make_error("kafka_producer", std::string("cannot create a Kafka producer: ") + err);
  }
  return std::unique_ptr<Producer>(new Producer(rk));
}

Producer::Producer(rd_kafka_t* rk) : rk_(rk), poller_([this] { poll_loop(); }) {}

Producer::~Producer() {
  if (rd_kafka_outq_len(rk_) > 0) {
    const auto err = rd_kafka_flush(rk_, 10000);
    if (err) {
      spdlog::warn("kafka producer {}: {} records not acknowledged at close", rd_kafka_name(rk_), rd_kafka_outq_len(rk_));
      // Fail them, so each delivery report still runs: its caller hears the
      // record was not stored (and nothing it holds is leaked).
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
      rd_kafka_flush(rk_, 1000);
    }
  }
  running_ = false;
  poller_.join();
  rd_kafka_destroy(rk_);
}

void Producer::poll_loop() {
  while (running_) rd_kafka_poll(rk_, 100);
}

Result<void> Producer::produce(const std::string& topic, std::string_view key, std::string_view value,
                               DeliveryReport report, QueueFull when_full) {
  auto* opaque = report ? new DeliveryReport(std::move(report)) : nullptr;
  for (;;) {
    const auto err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (!err) return {};
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && when_full == QueueFull::wait) {
      // The poll thread drains the queue as the broker acknowledges.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    delete opaque;
    return make_error(err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "kafka_busy" : "kafka_produce",
                      "cannot queue a record for " + topic + ": " + rd_kafka_err2str(err));
  }
}

Result<void> Producer::warm_up(const std::string& topic, std::chrono::milliseconds timeout) {
  auto partitions = partition_count(rk_, topic, timeout);
  if (!partitions) return partitions.error();
  return {};
}

Result<void> Producer::flush(std::chrono::milliseconds timeout) {
  const auto err = rd_kafka_flush(rk_, int(timeout.count()));
  if (err)
    return make_error("kafka_flush", std::to_string(rd_kafka_outq_len(rk_)) + " records still unacknowledged after " +
                                         std::to_string(timeout.count()) + " ms: " + rd_kafka_err2str(err));
  return {};
}

Result<void> Producer::init_transactions(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_init_transactions(rk_, int(timeout.count()))) return txn_error(e, "init_transactions");
  return {};
}

Result<void> Producer::begin_transaction() {
  if (auto* e = rd_kafka_begin_transaction(rk_)) return txn_error(e, "begin_transaction");
  return {};
}

Result<void> Producer::send_offsets_to_transaction(const std::vector<Message>& consumed, Consumer& consumer,
                                                   std::chrono::milliseconds timeout) {
  auto* offsets = Consumer::next_offsets(consumed);
  rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(consumer.handle());
  rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(rk_, offsets, group, int(timeout.count()));
  rd_kafka_consumer_group_metadata_destroy(group);
  rd_kafka_topic_partition_list_destroy(offsets);
  if (e) return txn_error(e, "send_offsets_to_transaction");
  return {};
}

Result<void> Producer::commit_transaction(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_commit_transaction(rk_, int(timeout.count()))) return txn_error(e, "commit_transaction");
  return {};
}

Result<void> Producer::abort_transaction(std::chrono::milliseconds timeout) {
  if (auto* e = rd_kafka_abort_transaction(rk_, int(timeout.count()))) return txn_error(e, "abort_transaction");
  return {};
}

}  // namespace sunbeam::kafka
