#include "engine/kafka/client_settings.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

namespace sunbeam::kafka {
namespace {

// librdkafka's syslog levels mapped onto spdlog, so its messages share our log.
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const auto lvl = level <= 3 ? spdlog::level::err : level <= 4 ? spdlog::level::warn
                 : level <= 6 ? spdlog::level::info : spdlog::level::debug;
  spdlog::log(lvl, "kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
}

}  // namespace

Result<rd_kafka_conf_t*> ClientSettings::make_conf(const std::map<std::string, std::string>& role_properties,
                                                  const std::string& client_id) const {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> bool {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK) return true;
    return false;
  };
  std::map<std::string, std::string> all = role_properties;
  all["bootstrap.servers"] = bootstrap;
  all["client.id"] = client_id;
  for (const auto& [k, v] : overrides) all[k] = v;
  for (const auto& [k, v] : all) {
    if (!set(k, v)) {
      rd_kafka_conf_destroy(conf);
      return make_error("kafka_config", "kafka property " + k + "=" + v + ": " + err, "kafka.client." + k);
    }
  }
  rd_kafka_conf_set_log_cb(conf, log_to_spdlog);
  return conf;
}

}  // namespace sunbeam::kafka
