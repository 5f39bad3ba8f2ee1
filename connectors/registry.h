// Connectors are built by kind name from their config (the way Envoy
// registers extension factories): each kind's folder adds one factory.
// Later kinds (sms_http, kannel, smtp) plug in here without touching dispatch.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/token_bucket.h"
#include "engine/core/result.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sunbeam {

using ConnectorFactory = std::function<Result<std::unique_ptr<Connector>>(const ConnectorConfig&)>;

class ConnectorRegistry {
 public:
  // The registry with every kind this build provides.
  static ConnectorRegistry with_builtin_kinds();

  void add(std::string kind, ConnectorFactory factory);
  bool knows(std::string_view kind) const;
  Result<std::unique_ptr<Connector>> build(const ConnectorConfig& config) const;

 private:
  std::map<std::string, ConnectorFactory, std::less<>> factories_;
};

// Every connector the config names, built and addressable by name and by
// channel (through `routing`), each with the token bucket of its `rate` and
// `burst`. Owns the connectors; stop() stops them all.
class Connectors {
 public:
  static Result<Connectors> build(const Config& config, const ConnectorRegistry& registry, const Clock& clock);
  Connector* by_name(std::string_view name) const;
  Connector* for_channel(Channel channel) const;  // the routed connector
  Connector* fallback_for(Channel channel) const; // routing's fallback, or nullptr
  std::vector<Connector*> all() const;
  TokenBucket& bucket(std::string_view connector_name) const;
  void stop();

 private:
  std::map<std::string, std::shared_ptr<Connector>, std::less<>> by_name_;
  std::map<std::string, std::shared_ptr<TokenBucket>, std::less<>> buckets_;
  std::map<Channel, Connector*> routes_;
  std::map<Channel, Connector*> fallbacks_;
};

}  // namespace sunbeam
