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

// "none", "recipient", "message", "connector" or "session": for records and logs.
std::string_view to_string(FailureClass c);

// An HTTP gateway's answer (2xx is not a failure: FailureClass::none).
FailureClass classify_http_status(long status);

// A transport error before or instead of an answer: time-outs and dropped
// connections are `session` (retry), DNS/TLS/refused are `connector`, a
// malformed request is `message`.
FailureClass classify_curl(CURLcode code);

// The SMTP command a reply answered: a 5yz's blast radius depends on it.
enum class SmtpCommand {
  session,  // greeting, EHLO, STARTTLS, AUTH: the server or our settings
  mail,     // MAIL FROM: the sender (a setting) or the size
  rcpt,     // RCPT TO: this recipient
  data,     // DATA and the end of the data: this message's content
};

// An SMTP reply code for the command that failed: 4yz is transient (421 drops
// the connection: `session`; others `connector`); 5yz to RCPT is
// `recipient`, to DATA `message`, to MAIL `message` for 552 (too big) else
// `connector` (the sender is refused: a setting), to the session `connector`
// (AUTH refused, no service, TLS demanded).
FailureClass classify_smtp_reply(long code, SmtpCommand command);

// The outcome of a finished libcurl SMTP transfer. libcurl (7.88) reports a
// server's refusal as a transport error: MAIL, RCPT and DATA refused give
// CURLE_SEND_ERROR ("RCPT failed: 550"), a refusal after the data
// CURLE_WEIRD_SERVER_REPLY (CURLE_RECV_ERROR in later versions), AUTH refused
// CURLE_LOGIN_DENIED; each time CURLINFO_RESPONSE_CODE holds the reply. So a
// reply of 400 or more is classified as that reply to `command`, and only
// otherwise the CURLcode (time-outs, refused connections, TLS). `reply_text`
// is the server's last reply line, for the error people read.
SendOutcome smtp_outcome(CURLcode code, long reply, SmtpCommand command, const std::string& what,
                         const std::string& reply_text);

// The outcome of a finished libcurl transfer to an HTTP gateway: the curl
// result first, then the status. `what` names the gateway for the message.
SendOutcome http_outcome(CURLcode code, long status, const std::string& what, const std::string& body_excerpt);

// Kannel's sendsms answer: a 2xx whose text starts "0:" (Accepted for
// delivery) or "3:" (Queued for later delivery) is accepted; any other 2xx
// is Kannel not doing what it says (`connector`: retry, the breaker decides);
// everything else as http_outcome.
SendOutcome kannel_outcome(CURLcode code, long status, const std::string& what, const std::string& answer);

}  // namespace sunbeam
