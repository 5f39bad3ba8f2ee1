#include "connectors/failure.h"

namespace sunbeam {

std::string_view to_string(FailureClass c) {
  switch (c) {
    case FailureClass::none: return "none";
    case FailureClass::recipient: return "recipient";
    case FailureClass::message: return "message";
    case FailureClass::connector: return "connector";
    case FailureClass::session: return "session";
  }
  return "none";
}

FailureClass classify_http_status(long status) {
  if (status >= 200 && status < 300) return FailureClass::none;
  if (status == 429 || status == 408 || status >= 500) return FailureClass::connector;
  if (status == 413 || status == 422) return FailureClass::message;
  if (status == 404 || status == 401 || status == 403) return FailureClass::connector;  // misconfigured: retry, breaker decides
  return FailureClass::message;  // any other 4xx: the gateway refused this request as it stands
}

FailureClass classify_curl(CURLcode code) {
  switch (code) {
    case CURLE_OK: return FailureClass::none;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    // Never sent: the pool stopped first. Nothing is wrong with the gateway,
    // so it must not count towards its breaker.
    case CURLE_ABORTED_BY_CALLBACK:
      return FailureClass::session;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return FailureClass::message;
    default:
      return FailureClass::connector;  // refused, DNS, TLS, ...: the gateway is unreachable
  }
}

FailureClass classify_smtp_reply(long code, SmtpCommand command) {
  if (code >= 200 && code < 400) return FailureClass::none;
  if (code >= 400 && code < 500) return code == 421 ? FailureClass::session : FailureClass::connector;
  switch (command) {
    case SmtpCommand::rcpt: return FailureClass::recipient;
    case SmtpCommand::data: return FailureClass::message;
    case SmtpCommand::mail: return code == 552 ? FailureClass::message : FailureClass::connector;
    case SmtpCommand::session: return FailureClass::connector;
  }
  return FailureClass::connector;
}

SendOutcome smtp_outcome(CURLcode code, long reply, SmtpCommand command, const std::string& what,
                         const std::string& reply_text) {
  if (code == CURLE_OK) return SendOutcome::ok();
  if (reply >= 400) {
    static constexpr const char* names[] = {"the session", "MAIL FROM", "RCPT TO", "DATA"};
    std::string error = what + ": " + names[static_cast<int>(command)] + " refused: ";
    error += reply_text.empty() ? std::to_string(reply) : reply_text.substr(0, 200);
    return SendOutcome::fail(classify_smtp_reply(reply, command), std::move(error));
  }
  return SendOutcome::fail(classify_curl(code), what + ": " + curl_easy_strerror(code));
}

SendOutcome http_outcome(CURLcode code, long status, const std::string& what, const std::string& body_excerpt) {
  if (code != CURLE_OK) return SendOutcome::fail(classify_curl(code), what + ": " + curl_easy_strerror(code));
  const FailureClass c = classify_http_status(status);
  if (c == FailureClass::none) return SendOutcome::ok();
  std::string error = what + " answered HTTP " + std::to_string(status);
  if (!body_excerpt.empty()) error += ": " + body_excerpt.substr(0, 200);
  return SendOutcome::fail(c, std::move(error));
}

SendOutcome kannel_outcome(CURLcode code, long status, const std::string& what, const std::string& answer) {
  if (code != CURLE_OK || status < 200 || status >= 300) return http_outcome(code, status, what, answer);
  if (answer.starts_with("0:") || answer.starts_with("3:")) return SendOutcome::ok();
  return SendOutcome::fail(FailureClass::connector, what + " answered HTTP " + std::to_string(status) +
                                                        " without accepting: " + answer.substr(0, 200));
}

}  // namespace sunbeam
