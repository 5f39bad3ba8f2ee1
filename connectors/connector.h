// The connector interface (SPEC §6): a connector hands one rendered message to
// one kind of gateway and reports what became of it. A kind implements only
// its protocol; dispatch owns ordering, rate limits, retries and records.
//
// Lifecycle: built by the ConnectorRegistry from a ConnectorConfig, used until
// `stop()`, then destroyed. `send` may be called from any thread, concurrently.
#pragma once

#include "config/vocabulary.h"
#include "connectors/receipt.h"
#include "engine/core/result.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

// What a connector sends: everything already rendered and addressed.
struct OutboundMessage {
  // Also the client reference a gateway echoes in receipts (sms_http `id`,
  // kannel's dlr-url `ref`), so receipts match even before a gateway id is known.
  std::string delivery_id;
  std::string event_id;
  std::string account;
  Channel channel = Channel::sms;
  std::string to;        // E.164 number or e-mail address
  std::string subject;   // e-mail only
  std::string body;      // the SMS text, or the e-mail's text part
  std::string html;      // e-mail only: the HTML part
  int parts = 1;         // SMS parts, as a handset counts them
  std::string encoding;  // SMS: gsm7 or ucs2
};

// Who is to blame when a send fails, which decides what happens next
// (the way Postfix classifies trouble by blast radius).
enum class FailureClass {
  none,        // accepted
  recipient,   // this address is bad: give up on this delivery
  message,     // this message is bad (too long, rejected content): give up
  connector,   // the gateway is failing (5xx, 429, time-out): retry later
  session,     // this connection broke: retry, possibly at once
};

struct SendOutcome {
  FailureClass failure = FailureClass::none;
  std::string gateway_message_id;  // kept for receipts
  std::string error;               // for people, when failure != none

  bool accepted() const { return failure == FailureClass::none; }
  bool retryable() const {
    return failure == FailureClass::connector || failure == FailureClass::session;
  }
  static SendOutcome ok(std::string message_id = {}) { return {FailureClass::none, std::move(message_id), {}}; }
  static SendOutcome fail(FailureClass c, std::string error) { return {c, {}, std::move(error)}; }
};

using SendCompletion = std::function<void(SendOutcome)>;

class Connector {
 public:
  virtual ~Connector() = default;
  virtual const std::string& name() const = 0;
  virtual std::string_view kind() const = 0;
  // Starts sending `msg`; calls `done` exactly once, on any thread, possibly
  // before `send` returns. Never throws: failures come back as outcomes.
  virtual void send(OutboundMessage msg, SendCompletion done) = 0;
  // Finishes or abandons what is in flight (each `done` still called once).
  virtual void stop() {}
  // Whether receipts may come for what this connector sends: dispatch keeps
  // a record of each send for them only then (one store write less per send).
  virtual bool takes_receipts() const { return false; }
  // Reads the delivery receipts in one request the gateway made to
  // /v1/receipts/{name}. Kinds without receipts keep the default (an error).
  virtual Result<std::vector<Receipt>> parse_receipts(const ReceiptRequest& request) const {
    (void)request;
    return make_error("receipts_unsupported", "connector " + name() + " (" + std::string(kind()) +
                                                  ") does not take delivery receipts");
  }
};

}  // namespace sunbeam
