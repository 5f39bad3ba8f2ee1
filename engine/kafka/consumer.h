// A librdkafka consumer, used in one of two ways:
//  - in a consumer group (`subscribe`): fanout and dispatch; offsets are
//    committed explicitly, only after the work they cover is durable;
//  - reading whole topics without a group (`assign_from_beginning`): the status
//    view and ingest's idempotency index rebuild their state from Kafka.
// Reads are read_committed, so aborted fan-out transactions are never seen.
//
// Thread affinity: one thread polls and commits; `close()` from that thread.
#pragma once

#include "engine/core/result.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/message.h"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_partition_list_s rd_kafka_topic_partition_list_t;

namespace sunbeam::kafka {

class Consumer {
 public:
  struct Options {
    std::string group_id;         // required for subscribe(); a throwaway one for assign mode
    std::string client_id;
    bool read_committed = true;
  };

  static Result<std::unique_ptr<Consumer>> create(const ClientSettings& settings, const Options& options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  Result<void> subscribe(const std::vector<std::string>& topics);
  // Every partition of `topic`, from the first offset, outside any group.
  Result<void> assign_from_beginning(const std::string& topic);
  // Every partition of each of `topics`, outside any group: from the next
  // offset `from` names for it, else from the first (a local index resuming
  // where it stopped). Replaces any earlier assignment.
  Result<void> assign(const std::vector<std::string>& topics, const std::vector<PartitionOffset>& from);

  // Up to `max` records: waits up to `timeout` for the first, then takes
  // what is already fetched without waiting.
  std::vector<Message> poll_batch(std::size_t max, std::chrono::milliseconds timeout);

  // Assign mode: true once every assigned partition has reported its end
  // since the last record read from it.
  bool caught_up() const;

  // Commits, synchronously, the offsets after `processed` (per partition).
  Result<void> commit(const std::vector<Message>& processed);
  // Commits, synchronously, explicit positions (the next offset to read).
  Result<void> commit(const std::vector<PartitionOffset>& positions);
  // Stops / restarts fetching from every assigned partition of `topic`
  // (backpressure); poll_batch must still be called to stay in the group.
  Result<void> pause(const std::string& topic);
  Result<void> resume(const std::string& topic);
  // Seeks each partition in `batch` back to its first record there, so a
  // batch whose work was abandoned is read again.
  Result<void> rewind(const std::vector<Message>& batch);

  void close();
  rd_kafka_t* handle() const { return rk_; }

  // The offsets after `messages`, per partition (caller owns the list).
  static rd_kafka_topic_partition_list_t* next_offsets(const std::vector<Message>& messages);

 private:
  explicit Consumer(rd_kafka_t* rk);
  rd_kafka_t* rk_;
  bool closed_ = false;
  std::set<std::pair<std::string, int>> assigned_;
  std::set<std::pair<std::string, int>> at_end_;
};

}  // namespace sunbeam::kafka
