// Failure classification, in one place (issue: "classified in one place"):
// every connector turns what its transport said into a FailureClass here, and
// dispatch decides from the class alone whether to retry, give up or trip the
// connector's breaker. The rules follow the gateways' own contracts (SPEC §6):
// 429, 5xx, time-outs and broken connections are worth retrying; other 4xx are
// not; SMTP 4yz replies are transient and 5yz permanent (RFC 5321 §4.2.1).
#pragma once

#include "connectors/connector.h"

#include <curl/curl.h>

#include <string>

namespace sunbeam {

// An HTTP gateway's answer (2xx is not a failure: FailureClass::none).
FailureClass classify_http_status(long status);

// A transport error before or instead of an answer: time-outs and dropped
// connections are `session` (retry), DNS/TLS/refused are `connector`, a
// malformed request is `message`.
FailureClass classify_curl(CURLcode code);

// An SMTP reply code for the command that failed. `to_recipient` is true when
// it answered RCPT TO, whose 5yz means this address is bad (`recipient`).
FailureClass classify_smtp_reply(long code, bool to_recipient);

// The outcome of a finished libcurl transfer to an HTTP gateway: the curl
// result first, then the status. `what` names the gateway for the message.
SendOutcome http_outcome(CURLcode code, long status, const std::string& what, const std::string& body_excerpt);

}  // namespace sunbeam
