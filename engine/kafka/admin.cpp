#include "engine/kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <memory>

namespace sunbeam::kafka {

Result<void> ensure_topics(const ClientSettings& settings, const std::vector<TopicSpec>& topics,
                           std::chrono::milliseconds timeout) {
  auto conf = settings.make_conf({}, "sunbeam-admin");
  if (!conf) return conf.error();
  char err[512];
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err),
                                                             &rd_kafka_destroy);
  if (!rk) return make_error("kafka_admin", std::string("cannot create a Kafka admin client: ") + err);

  std::vector<rd_kafka_NewTopic_t*> specs;
  for (const auto& t : topics) {
    auto* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, err, sizeof err);
    if (!nt) {
      for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
      return make_error("kafka_admin", "topic " + t.name + ": " + err);
    }
    for (const auto& [k, v] : t.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    specs.push_back(nt);
  }
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(rd_kafka_queue_new(rk.get()),
                                                                            &rd_kafka_queue_destroy);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, int(timeout.count()), err, sizeof err);
  rd_kafka_CreateTopics(rk.get(), specs.data(), specs.size(), options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  for (auto* s : specs) rd_kafka_NewTopic_destroy(s);

  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue.get(), int(timeout.count()) + 5000);
  if (!ev) return make_error("kafka_admin", "no answer from Kafka at " + settings.bootstrap + " while creating topics");
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> guard(ev, &rd_kafka_event_destroy);
  if (rd_kafka_event_error(ev))
    return make_error("kafka_admin", std::string("creating topics: ") + rd_kafka_event_error_string(ev));
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) {
    const auto code = rd_kafka_topic_result_error(results[i]);
    if (code && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      return make_error("kafka_admin", std::string("creating topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                                           rd_kafka_err2str(code));
  }
  return {};
}

Result<void> ping(rd_kafka_t* client, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(client, 0, nullptr, &md, int(timeout.count()));
  if (err) return make_error("kafka_unreachable", std::string("Kafka does not answer: ") + rd_kafka_err2str(err));
  rd_kafka_metadata_destroy(md);
  return {};
}

Result<int> partition_count(rd_kafka_t* client, const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(client, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(client, 0, handle, &md, int(timeout.count()));
  rd_kafka_topic_destroy(handle);
  if (err) return make_error("kafka_metadata", "metadata for " + topic + ": " + rd_kafka_err2str(err));
  int count = 0;
  if (md->topic_cnt == 1 && !md->topics[0].err) count = md->topics[0].partition_cnt;
  const auto topic_err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  rd_kafka_metadata_destroy(md);
  if (count == 0) return make_error("kafka_metadata", "topic " + topic + " is not available: " + rd_kafka_err2str(topic_err));
  return count;
}

}  // namespace sunbeam::kafka
