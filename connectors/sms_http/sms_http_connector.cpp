#include "connectors/sms_http/sms_http_connector.h"

#include "connectors/connector_options.h"
#include "connectors/curl/http_transfer.h"
#include "connectors/failure.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace sunbeam {
namespace {

// The gateway's id for the message from a 2xx answer, when it is a JSON
// object with that field (a string or a number); otherwise none.
std::string message_id_in(const std::string& answer, const std::string& field) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(answer, ec);
  if (ec || !v.is_object()) return {};
  const auto* id = v.get_object().if_contains(field);
  if (!id) return {};
  if (id->is_string()) return std::string(id->get_string());
  if (id->is_int64()) return std::to_string(id->get_int64());
  if (id->is_uint64()) return std::to_string(id->get_uint64());
  return {};
}

Error receipt_error(const std::string& connector, const std::string& what) {
  return make_error("bad_receipt", "receipts for connector " + connector + ": " + what);
}

}  // namespace

Result<SmsHttpSettings> read_sms_http_settings(const ConnectorConfig& config) {
  const ConnectorOptions options(config);
  if (auto r = options.only({"body", "sender", "auth_header", "message_id_field", "receipt_secret"});
      !r)
    return r.error();
  SmsHttpSettings s;
  s.name = config.name;
  s.url = config.endpoint;
  s.timeout = config.timeout;
  s.concurrency = config.concurrency;
  if (!is_http_url(s.url))
    return options.error("endpoint \"" + s.url + "\" is not an http:// or https:// URL");

  auto sender = options.get("sender");
  if (!sender) return sender.error();
  s.sender = *sender;

  auto body = options.get("body");
  if (!body) return body.error();
  if (body->empty()) {
    s.body = JsonBodyTemplate::standard(!s.sender.empty());
  } else {
    auto compiled = JsonBodyTemplate::compile(*body);
    if (!compiled) return options.error(compiled.error().message);
    s.body = std::move(*compiled);
  }

  auto auth = options.get("auth_header");
  if (!auth) return auth.error();
  if (auth->find_first_of("\r\n") != std::string::npos)
    return options.error("auth_header must be one line");  // it becomes a header
  s.authorization = *auth;

  auto field = options.get("message_id_field", "message_id");
  if (!field) return field.error();
  if (field->empty()) return options.error("message_id_field must name a field of the gateway's answer");
  s.message_id_field = *field;

  // Read now so a missing ${ENV} stops the start, not the first receipt.
  if (auto secret = options.get("receipt_secret"); !secret) return secret.error();
  return s;
}

Result<std::unique_ptr<Connector>> SmsHttpConnector::create(const ConnectorConfig& config) {
  auto settings = read_sms_http_settings(config);
  if (!settings) return settings.error();
  return std::unique_ptr<Connector>(new SmsHttpConnector(std::move(*settings)));
}

SmsHttpConnector::SmsHttpConnector(SmsHttpSettings settings)
    : settings_(std::make_shared<const SmsHttpSettings>(std::move(settings))),
      pool_(TransferPool::Options{settings_->name, settings_->concurrency}) {}

SmsHttpConnector::~SmsHttpConnector() { stop(); }

void SmsHttpConnector::stop() { pool_.stop(); }

void SmsHttpConnector::send(OutboundMessage msg, SendCompletion done) {
  HttpGatewayRequest request;
  request.url = settings_->url;
  request.post = true;
  request.body = settings_->body.render(msg, settings_->sender);
  request.headers = {"Content-Type: application/json", "Accept: application/json"};
  if (!settings_->authorization.empty()) request.headers.push_back("Authorization: " + settings_->authorization);
  request.timeout = settings_->timeout;
  auto on_answer = [settings = settings_, to = std::move(msg.to), done = std::move(done)](HttpGatewayAnswer a) {
    SendOutcome outcome = http_outcome(a.code, a.status, "connector " + settings->name, answer_excerpt(a.body, to));
    if (outcome.accepted()) outcome.gateway_message_id = message_id_in(a.body, settings->message_id_field);
    done(std::move(outcome));
  };
  pool_.submit(std::make_unique<HttpTransfer>(std::move(request), std::move(on_answer)));
}

Result<std::vector<Receipt>> SmsHttpConnector::parse_receipts(const ReceiptRequest& request) const {
  return parse_sms_http_receipts(request, settings_->name);
}

Result<std::vector<Receipt>> parse_sms_http_receipts(const ReceiptRequest& request, const std::string& connector) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(request.body, ec);
  if (ec) return receipt_error(connector, "the body is not JSON (" + ec.message() + ")");
  std::vector<const boost::json::value*> items;
  if (v.is_object()) items.push_back(&v);
  else if (v.is_array())
    for (const auto& item : v.get_array()) items.push_back(&item);
  else return receipt_error(connector, "expected a JSON object or an array of them");

  std::vector<Receipt> out;
  for (std::size_t n = 0; n < items.size(); ++n) {
    const std::string where = v.is_array() ? "receipt " + std::to_string(n + 1) + ": " : "";
    if (!items[n]->is_object()) return receipt_error(connector, where + "not a JSON object");
    const auto& o = items[n]->get_object();
    Receipt r;
    const auto text = [&](const char* key, std::string& into) -> bool {
      const auto* p = o.if_contains(key);
      if (!p || p->is_null()) return true;
      if (p->is_string()) into = std::string(p->get_string());
      else if (p->is_int64()) into = std::to_string(p->get_int64());
      else if (p->is_uint64()) into = std::to_string(p->get_uint64());
      else return false;
      return true;
    };
    const auto count = [&](const char* key, int& into) -> bool {
      const auto* p = o.if_contains(key);
      if (!p || p->is_null()) return true;
      if (!p->is_int64() || p->get_int64() < 0 || p->get_int64() > 255) return false;
      into = int(p->get_int64());
      return true;
    };
    std::string status, error;
    if (!text("id", r.reference)) return receipt_error(connector, where + "`id` must be a string");
    if (!text("message_id", r.gateway_message_id)) return receipt_error(connector, where + "`message_id` must be a string");
    if (!text("status", status)) return receipt_error(connector, where + "`status` must be a string");
    if (!text("error", error)) return receipt_error(connector, where + "`error` must be a string");
    if (!count("part", r.part) || !count("parts", r.parts))
      return receipt_error(connector, where + "`part` and `parts` must be whole numbers from 0 to 255");
    if (r.reference.empty() && r.gateway_message_id.empty())
      return receipt_error(connector, where + "names no message (give `id`, our delivery id, or `message_id`)");
    if (r.parts > 0 && r.part > r.parts)
      return receipt_error(connector, where + "part " + std::to_string(r.part) + " of " + std::to_string(r.parts));
    std::string lower = status;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (lower == "delivered") r.outcome = ReceiptOutcome::delivered;
    else if (lower == "undelivered" || lower == "failed" || lower == "rejected" || lower == "expired")
      r.outcome = ReceiptOutcome::undelivered;
    else if (lower == "accepted" || lower == "buffered" || lower == "enroute") r.outcome = ReceiptOutcome::pending;
    else
      return receipt_error(connector, where + (status.empty() ? std::string("no `status`") : "unknown status \"" + status + "\"") +
                                          " (delivered, undelivered, failed, rejected, expired, accepted, buffered, enroute)");
    r.detail = error.empty() ? status : status + ": " + error;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sunbeam
