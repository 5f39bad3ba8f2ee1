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
  std::string digest;
  std::string status;
  std::string dlq;
  std::string receipts;  // delivery receipts from gateways, for dispatch to match
  std::string control;   // operators' orders (cancel, suspend, resume, digest_now); compacted

  static Topics from(const Config& config);
  const std::string& deliveries_for(std::size_t tier_index) const { return deliveries.at(tier_index); }
  std::vector<std::string> all() const;
};

}  // namespace sunbeam::kafka
