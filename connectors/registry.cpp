#include "connectors/registry.h"

#include "connectors/discard/discard_connector.h"
#include "connectors/kannel/kannel_connector.h"
#include "connectors/outbox/outbox_connector.h"
#include "connectors/sms_http/sms_http_connector.h"
#include "connectors/smtp/smtp_connector.h"

namespace sunbeam {

ConnectorRegistry ConnectorRegistry::with_builtin_kinds() {
  ConnectorRegistry r;
  r.add("outbox", &OutboxConnector::create);
  r.add("discard", &DiscardConnector::create);
  r.add("sms_http", &SmsHttpConnector::create);
  r.add("kannel", &KannelConnector::create);
  r.add("smtp", &SmtpConnector::create);
  return r;
}

void ConnectorRegistry::add(std::string kind, ConnectorFactory factory) { factories_[std::move(kind)] = std::move(factory); }

bool ConnectorRegistry::knows(std::string_view kind) const { return factories_.find(kind) != factories_.end(); }

Result<std::unique_ptr<Connector>> ConnectorRegistry::build(const ConnectorConfig& config) const {
  const auto it = factories_.find(config.kind);
  if (it == factories_.end())
    return make_error("connector_kind", "connector " + config.name + ": kind \"" + config.kind +
                                            "\" is not available in this build of sunbeam", "connectors");
  return it->second(config);
}

Result<Connectors> Connectors::build(const Config& config, const ConnectorRegistry& registry, const Clock& clock) {
  Connectors out;
  for (const auto& route : config.routing) {
    for (const std::string* name : {&route.second.connector, route.second.fallback ? &*route.second.fallback : nullptr}) {
      if (!name || out.by_name_.contains(*name)) continue;
      const ConnectorConfig* cc = config.connector(*name);
      if (!cc) return make_error("connector_unknown", "routing names connector \"" + *name + "\", which is not configured");
      auto built = registry.build(*cc);
      if (!built) return built.error();
      out.by_name_.emplace(*name, std::shared_ptr<Connector>(std::move(*built)));
      out.buckets_.emplace(*name, std::make_shared<TokenBucket>(cc->rate, cc->burst, clock));
    }
    out.routes_[route.first] = out.by_name_.at(route.second.connector).get();
    if (route.second.fallback) out.fallbacks_[route.first] = out.by_name_.at(*route.second.fallback).get();
  }
  return out;
}

Connector* Connectors::by_name(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

Connector* Connectors::for_channel(Channel channel) const {
  const auto it = routes_.find(channel);
  return it == routes_.end() ? nullptr : it->second;
}

Connector* Connectors::fallback_for(Channel channel) const {
  const auto it = fallbacks_.find(channel);
  return it == fallbacks_.end() ? nullptr : it->second;
}

std::vector<Connector*> Connectors::all() const {
  std::vector<Connector*> out;
  for (const auto& [name, c] : by_name_) out.push_back(c.get());
  return out;
}

TokenBucket& Connectors::bucket(std::string_view connector_name) const { return *buckets_.find(connector_name)->second; }

void Connectors::stop() {
  for (auto& [name, c] : by_name_) c->stop();
}

}  // namespace sunbeam
