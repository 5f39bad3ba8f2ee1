// Creating sunbeam's topics on a real cluster (idempotent: existing topics are
// left as they are).
#pragma once

#include "engine/core/result.h"
#include "engine/kafka/client_settings.h"

#include <chrono>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;

namespace sunbeam::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;
  std::vector<std::pair<std::string, std::string>> configs;  // e.g. retention.ms
};

Result<void> ensure_topics(const ClientSettings& settings, const std::vector<TopicSpec>& topics,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Whether the cluster answers now: a metadata request (brokers only) within
// `timeout`, through an existing client (any thread; librdkafka is thread-safe).
Result<void> ping(rd_kafka_t* client, std::chrono::milliseconds timeout);

// Partition count of `topic` from cluster metadata.
Result<int> partition_count(rd_kafka_t* client, const std::string& topic,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace sunbeam::kafka
