// The names of sunbeam's topics, derived once from the configured prefix
// (ARCHITECTURE: events, deliveries.<tier>, digest, status, dlq; and
// receipts, which carries gateways' delivery receipts from the API to dispatch;
// control, operators' orders: engine/control/control_record.h).
#pragma once

#include "config/config.h"

#include <string>
#include <vector>

namespace sunbeam::kafka {

struct Topics {
  std::string events;
  std::vector<std::string> deliveries;  // one per tier, in tier order (highest first)
  // Urgent deliveries of every tier (`deliveries.urgent`): kept apart so that an
  // urgent alert never waits in a partition behind a bulk fan-out's backlog,
  // which dispatch's backpressure leaves in Kafka (bench/NOTES.md, urgent under load).
  std::string urgent;
  std::string digest;
  std::string status;
  std::string dlq;
  std::string receipts;  // delivery receipts from gateways, for dispatch to match
  std::string control;   // operators' orders (cancel, suspend, resume, digest_now); compacted

  static Topics from(const Config& config);
  const std::string& deliveries_for(std::size_t tier_index) const { return deliveries.at(tier_index); }
  const std::string& deliveries_for(std::size_t tier_index, Priority priority) const {
    return priority == Priority::urgent ? urgent : deliveries.at(tier_index);
  }
  // What dispatch reads: the urgent topic first, then the tiers'.
  std::vector<std::string> dispatch_reads() const;
  std::vector<std::string> all() const;
};

}  // namespace sunbeam::kafka
