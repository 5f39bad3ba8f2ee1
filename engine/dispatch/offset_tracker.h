// Which Kafka offsets dispatch may commit when deliveries finish out of order
// (a priority queue, retries and deferrals reorder them): per partition, the
// offset after the longest finished prefix, the way Kafka consumers with
// parallel processing (e.g. Confluent's parallel consumer) track completion.
// A delivery is finished once its outcome record (or its durable deferral)
// is acknowledged; a crash re-reads everything after the committed point.
//
// Thread safety: any thread (a mutex).
#pragma once

#include "engine/kafka/message.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace sunbeam {

using kafka::PartitionOffset;

class OffsetTracker {
 public:
  // A record read at `offset` (in increasing order per partition).
  void track(const std::string& topic, int partition, std::int64_t offset) {
    std::lock_guard lock(mutex_);
    auto& p = partitions_[{topic, partition}];
    if (p.open.emplace(offset, false).second) {
      ++pending_;
      ++pending_by_topic_[topic];
    }
  }
  void finish(const std::string& topic, int partition, std::int64_t offset) {
    std::lock_guard lock(mutex_);
    auto it = partitions_.find({topic, partition});
    if (it == partitions_.end()) return;
    auto o = it->second.open.find(offset);
    if (o == it->second.open.end() || o->second) return;
    o->second = true;
    --pending_;
    --pending_by_topic_[topic];
  }
  // Per partition whose finished prefix grew since the last call: the offset to commit.
  std::vector<PartitionOffset> take_commits() {
    std::lock_guard lock(mutex_);
    std::vector<PartitionOffset> out;
    for (auto& [key, p] : partitions_) {
      std::int64_t next = -1;
      while (!p.open.empty() && p.open.begin()->second) {
        next = p.open.begin()->first + 1;
        p.open.erase(p.open.begin());
      }
      if (next >= 0) out.push_back({key.first, key.second, next});
    }
    return out;
  }
  // Records read and not yet finished.
  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_;
  }
  std::size_t pending(const std::string& topic) const {
    std::lock_guard lock(mutex_);
    const auto it = pending_by_topic_.find(topic);
    return it == pending_by_topic_.end() ? 0 : it->second;
  }

 private:
  struct Partition {
    std::map<std::int64_t, bool> open;  // offset -> finished
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, Partition> partitions_;
  std::map<std::string, std::size_t> pending_by_topic_;
  std::size_t pending_ = 0;
};

}  // namespace sunbeam
