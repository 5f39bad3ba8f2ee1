#include "engine/kafka/topics.h"

namespace sunbeam::kafka {

Topics Topics::from(const Config& config) {
  const auto& p = config.kafka.topic_prefix;
  Topics t{p + "events", {}, p + "deliveries.urgent", p + "digest", p + "status", p + "dlq", p + "receipts",
           p + "control"};
  for (const auto& tier : config.tiers) t.deliveries.push_back(p + "deliveries." + tier);
  return t;
}

std::vector<std::string> Topics::dispatch_reads() const {
  std::vector<std::string> out{urgent};
  out.insert(out.end(), deliveries.begin(), deliveries.end());
  return out;
}

std::vector<std::string> Topics::all() const {
  std::vector<std::string> out{events, urgent, digest, status, dlq, receipts, control};
  out.insert(out.end(), deliveries.begin(), deliveries.end());
  return out;
}

}  // namespace sunbeam::kafka
