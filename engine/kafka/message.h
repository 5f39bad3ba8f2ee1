#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sunbeam::kafka {

// A consumed record, copied out of librdkafka's buffers.
struct Message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::int64_t timestamp_ms = 0;
};

// A position in a partition: for a commit, the next offset to read.
struct PartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

}  // namespace sunbeam::kafka
