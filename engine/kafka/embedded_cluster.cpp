#include "engine/kafka/embedded_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace sunbeam::kafka {

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(int brokers) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  // The mock cluster runs on the main thread of a client instance it owns.
  rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!owner) return make_error("kafka_embedded", std::string("cannot start the embedded Kafka: ") + err);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(owner, brokers);
  if (!cluster) {
    rd_kafka_destroy(owner);
    return make_error("kafka_embedded", "cannot start the embedded Kafka mock cluster");
  }
  return std::unique_ptr<EmbeddedCluster>(new EmbeddedCluster(owner, cluster));
}

EmbeddedCluster::EmbeddedCluster(rd_kafka_t* owner, rd_kafka_mock_cluster_t* cluster)
    : owner_(owner), cluster_(cluster), bootstrap_(rd_kafka_mock_cluster_bootstraps(cluster)) {}

EmbeddedCluster::~EmbeddedCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(owner_);
}

Result<void> EmbeddedCluster::create_topic(const std::string& name, int partitions) {
  const auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    return make_error("kafka_topic", "cannot create topic " + name + ": " + rd_kafka_err2str(err));
  return {};
}

}  // namespace sunbeam::kafka
