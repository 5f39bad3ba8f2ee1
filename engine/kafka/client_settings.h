// What every librdkafka client of this engine is built from: the bootstrap
// servers (a real cluster or the embedded mock's) and the operator's overrides.
#pragma once

#include "engine/core/result.h"

#include <map>
#include <memory>
#include <string>

typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace sunbeam::kafka {

struct ClientSettings {
  std::string bootstrap;                          // "host:port,..."
  std::map<std::string, std::string> overrides;   // applied last, from `kafka.client`
  // Group consumers may join as static members (Consumer::create). Off for the
  // embedded mock cluster: it lives and dies with the process, so no member
  // comes back to it, and it does not implement them (a member created again
  // in the same process waited for the old one's session).
  bool static_membership = false;

  // A librdkafka configuration with bootstrap.servers, `role_properties`, the
  // overrides and the log callback set; an error names the bad property.
  Result<rd_kafka_conf_t*> make_conf(const std::map<std::string, std::string>& role_properties,
                                     const std::string& client_id) const;
};

}  // namespace sunbeam::kafka
