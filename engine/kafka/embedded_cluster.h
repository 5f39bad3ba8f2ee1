// `kafka.brokers: embedded`: librdkafka's in-process mock cluster, so the
// quickstart needs no broker. Clients reach it over loopback TCP exactly as
// they would a real cluster; only its retention differs (a few MiB per
// partition, see PEERS.md), which is why volume tests use a real broker.
//
// Lifecycle: create before any client, destroy after every client.
#pragma once

#include "engine/core/result.h"

#include <memory>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace sunbeam::kafka {

class EmbeddedCluster {
 public:
  static Result<std::unique_ptr<EmbeddedCluster>> start(int brokers = 1);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  Result<void> create_topic(const std::string& name, int partitions);

 private:
  EmbeddedCluster(rd_kafka_t* owner, rd_kafka_mock_cluster_t* cluster);
  rd_kafka_t* owner_;
  rd_kafka_mock_cluster_t* cluster_;
  std::string bootstrap_;
};

}  // namespace sunbeam::kafka
