#include "connectors/discard/discard_connector.h"

#include "connectors/connector_options.h"

namespace sunbeam {

Result<std::unique_ptr<Connector>> DiscardConnector::create(const ConnectorConfig& config) {
  if (auto r = ConnectorOptions(config).only({}); !r) return r.error();
  return std::unique_ptr<Connector>(new DiscardConnector(config.name));
}

void DiscardConnector::send(OutboundMessage msg, SendCompletion done) {
  // The delivery id doubles as the gateway id, as the outbox does, so the
  // records look like those of a real send.
  done(SendOutcome::ok(std::move(msg.delivery_id)));
}

}  // namespace sunbeam
