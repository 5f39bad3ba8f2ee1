#include "connectors/kannel/kannel_connector.h"

#include "connectors/connector_options.h"
#include "connectors/curl/http_transfer.h"
#include "connectors/failure.h"

#include <charconv>

namespace sunbeam {
namespace {

// Kannel fills its escape codes (%d, %A, %F, ...) into the dlr-url when it
// calls it, and keeps an unknown %X as written, but %A3 (an encoded UTF-8
// byte) would become the answer followed by "3". Its "%%" becomes "%", so
// every % of ours is doubled: our own percent-encoding survives the filling.
std::string kannel_literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') out.push_back('%');
    out.push_back(c);
  }
  return out;
}

Error receipt_error(const std::string& connector, const std::string& what) {
  return make_error("bad_receipt", "receipts for connector " + connector + ": " + what);
}

}  // namespace

Result<KannelSettings> read_kannel_settings(const ConnectorConfig& config) {
  const ConnectorOptions options(config);
  if (auto r = options.only({"username", "password", "sender", "dlr_url", "dlr_mask", "receipt_secret"});
      !r)
    return r.error();
  KannelSettings s;
  s.name = config.name;
  s.url = config.endpoint;
  s.timeout = config.timeout;
  s.concurrency = config.concurrency;
  if (!is_http_url(s.url))
    return options.error("endpoint \"" + s.url + "\" is not an http:// or https:// URL (write e.g. "
                         "http://127.0.0.1:13013/cgi-bin/sendsms)");
  for (auto [key, into] : {std::pair{"username", &s.username}, std::pair{"password", &s.password}}) {
    auto v = options.required(key);
    if (!v) return v.error();
    *into = std::move(*v);
  }
  for (auto [key, into] : {std::pair{"sender", &s.sender}, std::pair{"dlr_url", &s.dlr_url},
                           std::pair{"receipt_secret", &s.receipt_secret}}) {
    auto v = options.get(key);
    if (!v) return v.error();
    *into = std::move(*v);
  }
  if (!s.dlr_url.empty() && !is_http_url(s.dlr_url))
    return options.error("dlr_url \"" + s.dlr_url + "\" is not an http:// or https:// URL (write sunbeam's "
                         "receipts URL, e.g. http://127.0.0.1:8080/v1/receipts/" + config.name + ")");
  if (!s.receipt_secret.empty() && s.dlr_url.empty())
    return options.error("receipt_secret needs dlr_url: Kannel proves itself with the secret in the dlr-url");
  auto mask = options.integer("dlr_mask", 31, 1, 31);
  if (!mask) return mask.error();
  s.dlr_mask = *mask;
  return s;
}

Result<std::string> kannel_sendsms_url(const KannelSettings& s, const OutboundMessage& msg) {
  int coding = 0;
  if (msg.encoding == "ucs2") coding = 2;
  else if (!msg.encoding.empty() && msg.encoding != "gsm7")
    return make_error("encoding", "encoding \"" + msg.encoding + "\" is neither gsm7 nor ucs2");
  if (msg.to.empty()) return make_error("recipient", "no number to send to");

  std::string url = s.url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "username=" + url_encode(s.username);
  url += "&password=" + url_encode(s.password);
  url += "&to=" + url_encode(msg.to);
  url += "&text=" + url_encode(msg.body);
  url += "&charset=UTF-8&coding=" + std::to_string(coding);
  if (!s.sender.empty()) url += "&from=" + url_encode(s.sender);
  if (!s.dlr_url.empty()) {
    std::string dlr = kannel_literal(s.dlr_url + (s.dlr_url.find('?') == std::string::npos ? "?" : "&") +
                                     "ref=" + url_encode(msg.delivery_id));
    dlr += "&type=%d&smsc=%i&fid=%F&answer=%A";
    if (!s.receipt_secret.empty()) dlr += kannel_literal("&secret=" + url_encode(s.receipt_secret));
    url += "&dlr-mask=" + std::to_string(s.dlr_mask) + "&dlr-url=" + url_encode(dlr);
  }
  return {boost::system::in_place_value, std::move(url)};
}

Result<std::unique_ptr<Connector>> KannelConnector::create(const ConnectorConfig& config) {
  auto settings = read_kannel_settings(config);
  if (!settings) return settings.error();
  return std::unique_ptr<Connector>(new KannelConnector(std::move(*settings)));
}

KannelConnector::KannelConnector(KannelSettings settings)
    : settings_(std::make_shared<const KannelSettings>(std::move(settings))),
      pool_(TransferPool::Options{settings_->name, settings_->concurrency}) {}

KannelConnector::~KannelConnector() { stop(); }

void KannelConnector::stop() { pool_.stop(); }

void KannelConnector::send(OutboundMessage msg, SendCompletion done) {
  auto url = kannel_sendsms_url(*settings_, msg);
  if (!url) {
    const FailureClass c = url.error().code == "recipient" ? FailureClass::recipient : FailureClass::message;
    done(SendOutcome::fail(c, "connector " + settings_->name + ": " + url.error().message));
    return;
  }
  HttpGatewayRequest request;
  request.url = std::move(*url);
  request.timeout = settings_->timeout;
  auto on_answer = [settings = settings_, to = std::move(msg.to), id = std::move(msg.delivery_id),
                    done = std::move(done)](HttpGatewayAnswer a) {
    SendOutcome outcome = kannel_outcome(a.code, a.status, "connector " + settings->name, answer_excerpt(a.body, to));
    if (outcome.accepted()) outcome.gateway_message_id = id;  // Kannel's reports name it as `ref`
    done(std::move(outcome));
  };
  pool_.submit(std::make_unique<HttpTransfer>(std::move(request), std::move(on_answer)));
}

Result<std::vector<Receipt>> KannelConnector::parse_receipts(const ReceiptRequest& request) const {
  return parse_kannel_receipts(request, settings_->name);
}

Result<std::vector<Receipt>> parse_kannel_receipts(const ReceiptRequest& request, const std::string& connector) {
  const auto param = [&](const char* key) {
    const auto it = request.query.find(key);
    return it == request.query.end() ? std::string() : it->second;
  };
  Receipt r;
  r.reference = param("ref");
  if (r.reference.empty()) return receipt_error(connector, "no `ref` (the dlr-url this connector gives Kannel carries it)");
  const std::string type = param("type");
  int code = 0;
  const auto [end, ec] = std::from_chars(type.data(), type.data() + type.size(), code);
  if (type.empty() || ec != std::errc() || end != type.data() + type.size())
    return receipt_error(connector, "`type` \"" + type + "\" is not Kannel's report type (1, 2, 4, 8 or 16)");
  const char* what = nullptr;
  switch (code) {
    case 1: r.outcome = ReceiptOutcome::delivered, what = "delivered"; break;
    case 2: r.outcome = ReceiptOutcome::undelivered, what = "undelivered"; break;
    case 16: r.outcome = ReceiptOutcome::undelivered, what = "rejected by the SMSC"; break;
    case 4: r.outcome = ReceiptOutcome::pending, what = "buffered"; break;
    case 8: r.outcome = ReceiptOutcome::pending, what = "accepted by the SMSC"; break;
    default: return receipt_error(connector, "`type` " + type + " is not one of Kannel's report types (1, 2, 4, 8 or 16)");
  }
  r.gateway_message_id = param("fid");
  r.detail = what;
  if (const std::string answer = param("answer"); !answer.empty()) r.detail += ": " + answer.substr(0, 200);
  return std::vector<Receipt>{std::move(r)};
}

}  // namespace sunbeam
