// The `smtp` connector (SPEC §6): each message becomes one mail (see
// mime_message.h) sent by libcurl to one SMTP server through a TransferPool,
// so up to `concurrency` mails are in flight and connections are kept alive
// and reused between them. STARTTLS when the server offers it (or required,
// or never: option `tls`), AUTH with `username` / `password` from `${ENV}`,
// MAIL FROM the From address, exactly one RCPT TO.
//
// Options (docs/configuration.md): from (required), message_id_domain,
// tls (try | required | none), ca_file, tls_verify (true | false),
// username, password.
//
// Outcomes: accepted with gateway_message_id = the Message-ID; a `to` that is
// not one plain address fails as `recipient` before any connection is made;
// everything the server or libcurl says is classified by smtp_outcome
// (connectors/failure.h).
//
// Thread safety: send() from any thread; completions run on the pool's thread.
#pragma once

#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/curl/transfer_pool.h"
#include "connectors/smtp/mime_message.h"
#include "engine/core/clock.h"
#include "engine/core/result.h"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>

namespace sunbeam {

// A smtp connector's configuration, read and checked once.
struct SmtpSettings {
  std::string name;       // the connector's, for messages
  std::string url;        // smtp://host:port or smtps://host:port
  MailSettings mail;      // From, Message-ID domain
  curl_usessl tls = CURLUSESSL_TRY;
  std::string ca_file;    // empty: the system's CA store
  bool tls_verify = true;
  std::string username;   // empty: no AUTH
  std::string password;
  std::chrono::milliseconds timeout{10'000};
  int concurrency = 4;
};

// Reads and checks the options (unknown keys are errors, as in the rest of
// the config); `${ENV}` references are expanded here.
Result<SmtpSettings> read_smtp_settings(const ConnectorConfig& config);

class SmtpConnector final : public Connector {
 public:
  // The registry's factory: the Date header comes from the system clock.
  static Result<std::unique_ptr<Connector>> create(const ConnectorConfig& config);
  SmtpConnector(SmtpSettings settings, const Clock& clock);
  ~SmtpConnector() override;

  const std::string& name() const override { return settings_->name; }
  std::string_view kind() const override { return "smtp"; }
  void send(OutboundMessage msg, SendCompletion done) override;
  void stop() override;

 private:
  std::shared_ptr<const SmtpSettings> settings_;
  const Clock& clock_;
  TransferPool pool_;
};

}  // namespace sunbeam
