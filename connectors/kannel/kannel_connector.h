// The `kannel` connector (SPEC §6): Kannel's smsbox sendsms interface, one
// GET per message:
//
//   <endpoint>?username=&password=&to=&text=&charset=UTF-8&coding=0|2
//             [&from=][&dlr-mask=31&dlr-url=<dlr_url>?ref=<delivery id>&type=%d&...]
//
// coding=2 (UCS-2) when the message was counted as UCS-2, else 0 (GSM-7):
// Kannel converts the UTF-8 text itself. Kannel answers 202 "0: Accepted for
// delivery" or "3: Queued for later delivery"; anything else is a failure
// (kannel_outcome in connectors/failure.h). The gateway message id is the
// delivery id, which Kannel echoes as `ref` in its delivery reports.
//
// Kannel splits long texts itself and silently truncates at the sendsms
// user's max-messages (shared/PEERS.md): parts are counted before sending,
// nothing here second-guesses Kannel.
//
// Options (docs/configuration.md): username, password (required; password as
// ${ENV}), sender, dlr_url (sunbeam's /v1/receipts/<name>), dlr_mask
// (default 31), receipt_secret (appended to the dlr-url as `secret`).
//
// Thread safety: send() from any thread; completions run on the pool's thread.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/curl/transfer_pool.h"
#include "engine/core/result.h"

#include <chrono>
#include <memory>
#include <string>

namespace sunbeam {

struct KannelSettings {
  std::string name;
  std::string url;  // the sendsms endpoint
  std::string username;
  std::string password;
  std::string sender;
  std::string dlr_url;  // empty: no delivery reports asked for
  int dlr_mask = 31;    // delivered, undelivered, buffered, SMSC ack, SMSC reject
  std::string receipt_secret;
  std::chrono::milliseconds timeout{10'000};
  int concurrency = 4;
};

Result<KannelSettings> read_kannel_settings(const ConnectorConfig& config);

// The sendsms URL for `msg` (exposed for tests).
Result<std::string> kannel_sendsms_url(const KannelSettings& settings, const OutboundMessage& msg);

// One delivery report: Kannel's GET of the dlr-url with ref, type, fid,
// answer (and smsc). Type 1 delivered; 2 and 16 undelivered; 4 and 8 pending.
Result<std::vector<Receipt>> parse_kannel_receipts(const ReceiptRequest& request, const std::string& connector);

class KannelConnector final : public Connector {
 public:
  static Result<std::unique_ptr<Connector>> create(const ConnectorConfig& config);
  explicit KannelConnector(KannelSettings settings);
  ~KannelConnector() override;

  const std::string& name() const override { return settings_->name; }
  std::string_view kind() const override { return "kannel"; }
  void send(OutboundMessage msg, SendCompletion done) override;
  void stop() override;
  // Kannel reports only when asked for them, through the dlr-url.
  bool takes_receipts() const override { return !settings_->dlr_url.empty(); }
  Result<std::vector<Receipt>> parse_receipts(const ReceiptRequest& request) const override;

  const TransferPool& pool() const { return pool_; }

 private:
  std::shared_ptr<const KannelSettings> settings_;
  TransferPool pool_;
};

}  // namespace sunbeam
