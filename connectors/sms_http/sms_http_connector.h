// The `sms_http` connector (SPEC §6): any HTTP SMS gateway that takes one
// message per JSON POST. The body is {"id","to","text","sender"} unless the
// gateway wants another shape (option `body`, see json_body_template.h).
// Sends go through a TransferPool: up to `concurrency` in flight over
// kept-alive connections, each bounded by the connector's `timeout`.
//
// Options (docs/configuration.md): body, sender, auth_header (sent as
// Authorization, e.g. `Bearer ${SMS_TOKEN}`), message_id_field (default
// message_id), receipt_secret (checked by the receipts endpoint).
//
// Outcomes: 2xx accepted, with the answer's `message_id_field` (when the
// answer is a JSON object that has it) as the gateway message id; the rest is
// classified by http_outcome (connectors/failure.h).
//
// Receipts: JSON, one object or an array of them, each
//   {"id": our delivery id, "message_id", "status", "part", "parts", "error"}
// with status delivered | undelivered | failed | rejected | expired |
// accepted | buffered | enroute.
//
// Thread safety: send() from any thread; completions run on the pool's thread.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/curl/transfer_pool.h"
#include "connectors/sms_http/json_body_template.h"
#include "engine/core/result.h"

#include <chrono>
#include <memory>
#include <string>

namespace sunbeam {

// An sms_http connector's configuration, read and checked once.
struct SmsHttpSettings {
  std::string name;
  std::string url;
  JsonBodyTemplate body = JsonBodyTemplate::standard(false);
  std::string sender;
  std::string authorization;  // the Authorization header's value; empty: none
  std::string message_id_field = "message_id";
  std::chrono::milliseconds timeout{10'000};
  int concurrency = 4;
};

// Reads and checks the options (unknown keys are errors); `${ENV}` expanded here.
Result<SmsHttpSettings> read_sms_http_settings(const ConnectorConfig& config);

// The generic gateway's receipts (see above); `connector` names it in errors.
Result<std::vector<Receipt>> parse_sms_http_receipts(const ReceiptRequest& request, const std::string& connector);

class SmsHttpConnector final : public Connector {
 public:
  static Result<std::unique_ptr<Connector>> create(const ConnectorConfig& config);
  explicit SmsHttpConnector(SmsHttpSettings settings);
  ~SmsHttpConnector() override;

  const std::string& name() const override { return settings_->name; }
  std::string_view kind() const override { return "sms_http"; }
  void send(OutboundMessage msg, SendCompletion done) override;
  void stop() override;
  bool takes_receipts() const override { return true; }
  Result<std::vector<Receipt>> parse_receipts(const ReceiptRequest& request) const override;

  const TransferPool& pool() const { return pool_; }

 private:
  std::shared_ptr<const SmsHttpSettings> settings_;
  TransferPool pool_;
};

}  // namespace sunbeam
