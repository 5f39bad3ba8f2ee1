// The kannel connector against an in-process stand-in for smsbox's sendsms:
// the exact parameters it sends (and that its dlr-url survives Kannel's
// escape-code filling), how Kannel's answers are classified, and its
// delivery reports. tests/integration/test_kannel.py runs it against a real Kannel.
#include "connectors/failure.h"
#include "connectors/kannel/kannel_connector.h"
#include "connectors/registry.h"
#include "tests/support/doctest_result.h"
#include "tests/unit/connectors/fake_gateway.h"

#include <doctest/doctest.h>

#include <curl/curl.h>

#include <cstdlib>

using namespace sunbeam;
using namespace sunbeam::test;

namespace {

ConnectorConfig kannel_config(const std::string& endpoint, std::map<std::string, std::string> options) {
  ConnectorConfig c;
  c.name = "kannel";
  c.kind = "kannel";
  c.endpoint = endpoint;
  c.options = std::move(options);
  return c;
}

std::map<std::string, std::string> credentials(std::map<std::string, std::string> more = {}) {
  ::setenv("SUNBEAM_TEST_KANNEL_PW", "p&ss=w+rd", 1);
  more.emplace("username", "tester");
  more.emplace("password", "${SUNBEAM_TEST_KANNEL_PW}");
  return more;
}

std::unique_ptr<KannelConnector> connector(const ConnectorConfig& c) {
  auto s = read_kannel_settings(c);
  REQUIRE(s);
  return std::make_unique<KannelConnector>(std::move(*s));
}

OutboundMessage sms(std::string id, std::string text, std::string encoding) {
  OutboundMessage m;
  m.delivery_id = std::move(id);
  m.event_id = "evt-1";
  m.to = "+8613800138000";
  m.body = std::move(text);
  m.encoding = std::move(encoding);
  return m;
}

SendOutcome send_one(Connector& c, OutboundMessage m) {
  Outcomes outcomes;
  const std::string id = m.delivery_id;
  c.send(std::move(m), outcomes.completion(id));
  REQUIRE(outcomes.wait(1));
  return outcomes.at(id);
}

// What Kannel 1.4 does to a dlr-url before calling it (gw/urltrans.c,
// urltrans_fill_escape_codes): %d the type, %i the SMSC, %F the foreign id,
// %A the answer (URL-encoded), "%%" a single %, any other %X kept as written.
std::string kannel_fills(const std::string& pattern, int type, const std::string& fid, const std::string& answer) {
  auto enc = [](const std::string& s) {
    char* e = curl_easy_escape(nullptr, s.data(), int(s.size()));
    std::string out(e);
    curl_free(e);
    return out;
  };
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    switch (const char c = pattern[++i]) {
      case 'd': out += std::to_string(type); break;
      case 'i': out += "FAKE"; break;
      case 'F': out += enc(fid); break;
      case 'A': out += enc(answer); break;
      case '%': out += '%'; break;
      default: out += '%', out += c;
    }
  }
  return out;
}

// The query of `url`, decoded as the receipts endpoint decodes it.
std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = url.find('?');
  REQUIRE(q != std::string::npos);
  std::size_t pos = q + 1;
  while (pos <= url.size()) {
    const auto amp = std::min(url.find('&', pos), url.size());
    const std::string pair = url.substr(pos, amp - pos);
    const auto eq = pair.find('=');
    auto dec = [](const std::string& s) {
      int n = 0;
      char* d = curl_easy_unescape(nullptr, s.data(), int(s.size()), &n);
      std::string out(d, std::size_t(n));
      curl_free(d);
      return out;
    };
    out[dec(pair.substr(0, eq))] = eq == std::string::npos ? "" : dec(pair.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

ReceiptRequest dlr(std::map<std::string, std::string> query) { return ReceiptRequest{"GET", std::move(query), {}, {}}; }

}  // namespace

TEST_CASE("kannel sends every sendsms parameter, UCS-2 Chinese as coding=2, with a dlr-url Kannel can fill") {
  FakeGateway gw;
  gw.route("/cgi-bin/sendsms", [](const HttpRequest&) { return answer(202, "0: Accepted for delivery", "text/html"); });
  gw.start();
  auto c = connector(kannel_config(gw.url("/cgi-bin/sendsms"),
                                   credentials({{"sender", "10086"},
                                                {"dlr_url", "http://127.0.0.1:8080/v1/receipts/kannel"},
                                                {"receipt_secret", "s3cr%A3t+/"}})));
  const std::string text = "【阳光证券】风险提示：请关注公告 & 审慎决策 100%";
  const auto o = send_one(*c, sms("evt:1/d\xC3\xBC", text, "ucs2"));
  CHECK(o.accepted());
  CHECK(o.gateway_message_id == "evt:1/d\xC3\xBC");

  const auto got = gw.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "GET");
  const auto& q = got[0].query_params;
  CHECK(q.at("username") == "tester");
  CHECK(q.at("password") == "p&ss=w+rd");
  CHECK(q.at("to") == "+8613800138000");
  CHECK(q.at("text") == text);
  CHECK(q.at("charset") == "UTF-8");
  CHECK(q.at("coding") == "2");
  CHECK(q.at("from") == "10086");
  CHECK(q.at("dlr-mask") == "31");
  CHECK(q.size() == 9);

  // Kannel fills its escape codes in, then calls the URL: our ref and secret
  // come back intact, and the report's fields are where the endpoint reads them.
  const std::string called = kannel_fills(q.at("dlr-url"), 1, "fid-9", "id:1 stat:DELIVRD");
  CHECK(called.starts_with("http://127.0.0.1:8080/v1/receipts/kannel?"));
  const auto report = query_of(called);
  CHECK(report.at("ref") == "evt:1/d\xC3\xBC");
  CHECK(report.at("type") == "1");
  CHECK(report.at("smsc") == "FAKE");
  CHECK(report.at("fid") == "fid-9");
  CHECK(report.at("answer") == "id:1 stat:DELIVRD");
  CHECK(report.at("secret") == "s3cr%A3t+/");

  auto receipts = c->parse_receipts(dlr(report));
  REQUIRE(receipts);
  REQUIRE(receipts->size() == 1);
  CHECK(receipts->at(0).reference == "evt:1/d\xC3\xBC");
  CHECK(receipts->at(0).outcome == ReceiptOutcome::delivered);
}

TEST_CASE("kannel: GSM-7 is coding=0; no sender, no dlr_url: no from, no dlr parameters") {
  FakeGateway gw;
  gw.route("/cgi-bin/sendsms", [](const HttpRequest&) { return answer(202, "3: Queued for later delivery", "text/html"); });
  gw.start();
  auto c = connector(kannel_config(gw.url("/cgi-bin/sendsms"), credentials()));
  const auto o = send_one(*c, sms("d-2", "Rating: BUY @ 1,850.00 {target} ~ £12", "gsm7"));
  CHECK(o.accepted());  // queued is accepted too
  const auto q = gw.received().at(0).query_params;
  CHECK(q.at("coding") == "0");
  CHECK(q.at("text") == "Rating: BUY @ 1,850.00 {target} ~ £12");
  CHECK_FALSE(q.contains("from"));
  CHECK_FALSE(q.contains("dlr-url"));
  CHECK_FALSE(q.contains("dlr-mask"));

  const auto url = kannel_sendsms_url(*read_kannel_settings(kannel_config("http://k/cgi-bin/sendsms?smsc=A", credentials())),
                                      sms("d", "a b", ""));
  REQUIRE(url);
  CHECK(*url == "http://k/cgi-bin/sendsms?smsc=A&username=tester&password=p%26ss%3Dw%2Brd&to=%2B8613800138000"
                "&text=a%20b&charset=UTF-8&coding=0");
}

TEST_CASE("kannel answers: accepted and queued; refusals by status; a 2xx that accepts nothing is the gateway's fault") {
  FakeGateway gw;
  gw.route("/{code}", [](const HttpRequest& r) {
    const std::string& code = r.path_params.at("code");
    if (code == "403") return answer(403, "Authorization failed for sendsms", "text/html");
    if (code == "400") return answer(400, "Missing receiver number, rejected", "text/html");
    if (code == "503") return answer(503, "Sendsms temporarily unavailable", "text/html");
    return answer(202, "4: Something else", "text/html");
  });
  gw.start();
  const std::map<std::string, FailureClass> expected{{"403", FailureClass::connector}, {"400", FailureClass::message},
                                                     {"503", FailureClass::connector}, {"202", FailureClass::connector}};
  for (const auto& [code, failure] : expected) {
    auto c = connector(kannel_config(gw.url("/" + code), credentials()));
    const auto o = send_one(*c, sms("d-" + code, "hi", "gsm7"));
    CHECK_MESSAGE(o.failure == failure, code << ": " << o.error);
    CHECK(o.error.find(code) != std::string::npos);
    CHECK(o.gateway_message_id.empty());
  }
  auto c = connector(kannel_config(gw.url("/202"), credentials()));
  const auto bad = send_one(*c, sms("d-x", "hi", "utf7"));
  CHECK(bad.failure == FailureClass::message);
  CHECK(bad.error.find("utf7") != std::string::npos);
  CHECK(gw.count() == 4);  // the bad encoding never left

  Hangup hangup;
  CHECK(send_one(*connector(kannel_config(hangup.url("/cgi-bin/sendsms"), credentials())), sms("d-h", "hi", "gsm7")).failure ==
        FailureClass::session);
}

TEST_CASE("kannel settings: credentials required, options checked") {
  auto missing = read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms", {{"username", "tester"}}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("`password`") != std::string::npos);
  auto unknown = read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms",
                                                    credentials({{"receipt_url", "http://127.0.0.1:8080/v1/receipts/kannel"}})));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("no option `receipt_url`") != std::string::npos);
  CHECK(unknown.error().message.find("dlr_url") != std::string::npos);
  CHECK_FALSE(read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms", credentials({{"dlr_mask", "64"}}))));
  CHECK_FALSE(read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms", credentials({{"dlr_url", "/v1/receipts"}}))));
  CHECK_FALSE(read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms", credentials({{"receipt_secret", "x"}}))));
  CHECK_FALSE(read_kannel_settings(kannel_config("localhost:13013", credentials())));
  auto mask = read_kannel_settings(kannel_config("http://127.0.0.1:13013/cgi-bin/sendsms",
                                                 credentials({{"dlr_mask", "3"}, {"dlr_url", "http://127.0.0.1:8080/v1/receipts/k"}})));
  REQUIRE(mask);
  CHECK(mask->dlr_mask == 3);
  CHECK(ConnectorRegistry::with_builtin_kinds().knows("kannel"));
}

TEST_CASE("kannel delivery reports: types 1, 2, 4, 8, 16; malformed reports are errors") {
  const std::map<std::string, ReceiptOutcome> types{{"1", ReceiptOutcome::delivered},   {"2", ReceiptOutcome::undelivered},
                                                    {"16", ReceiptOutcome::undelivered}, {"4", ReceiptOutcome::pending},
                                                    {"8", ReceiptOutcome::pending}};
  for (const auto& [type, outcome] : types) {
    auto r = parse_kannel_receipts(dlr({{"ref", "d-1"}, {"type", type}, {"fid", "7f"}, {"smsc", "FAKE"}, {"answer", "ACK/"}}), "kannel");
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(r->at(0).reference == "d-1");
    CHECK(r->at(0).gateway_message_id == "7f");
    CHECK_MESSAGE(r->at(0).outcome == outcome, type);
    CHECK(r->at(0).detail.find("ACK/") != std::string::npos);
    CHECK(r->at(0).part == 0);  // Kannel reports the whole message, even when concatenated
  }
  auto error_of = [](std::map<std::string, std::string> q) {
    auto r = parse_kannel_receipts(dlr(std::move(q)), "kannel");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad_receipt");
    return r.error().message;
  };
  CHECK(error_of({{"type", "1"}}).find("`ref`") != std::string::npos);
  CHECK(error_of({{"ref", "d-1"}}).find("`type`") != std::string::npos);
  CHECK(error_of({{"ref", "d-1"}, {"type", "3"}}).find("`type` 3") != std::string::npos);
  CHECK(error_of({{"ref", "d-1"}, {"type", "%d"}}).find("%d") != std::string::npos);  // Kannel did not fill it in
  CHECK(error_of({{"ref", "d-1"}, {"type", "1x"}}).find("1x") != std::string::npos);
}
