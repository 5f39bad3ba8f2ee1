// The sms_http connector against an in-process gateway (the project's Beast
// server): the exact bytes it posts, how each answer is classified, what a
// silent, hanging-up or absent gateway amounts to, its concurrency, and the
// generic gateway's receipts.
#include "connectors/failure.h"
#include "connectors/registry.h"
#include "connectors/sms_http/json_body_template.h"
#include "connectors/sms_http/sms_http_connector.h"
#include "tests/support/doctest_result.h"
#include "tests/unit/connectors/fake_gateway.h"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <cstdlib>

using namespace sunbeam;
using namespace sunbeam::test;

namespace {

ConnectorConfig sms_config(const std::string& endpoint, std::map<std::string, std::string> options = {}) {
  ConnectorConfig c;
  c.name = "gw";
  c.kind = "sms_http";
  c.endpoint = endpoint;
  c.options = std::move(options);
  c.timeout = std::chrono::seconds(10);
  return c;
}

std::unique_ptr<SmsHttpConnector> connector(const ConnectorConfig& c) {
  auto s = read_sms_http_settings(c);
  REQUIRE(s);
  return std::make_unique<SmsHttpConnector>(std::move(*s));
}

OutboundMessage sms(std::string id, std::string text = "【阳光证券】贵州茅台（600519.SH）今日发布分红公告。") {
  OutboundMessage m;
  m.delivery_id = std::move(id);
  m.event_id = "evt-1";
  m.account = "A1";
  m.to = "+8613800138000";
  m.body = std::move(text);
  m.parts = 1;
  m.encoding = "ucs2";
  return m;
}

// Sends one message and waits (bounded) for its outcome.
SendOutcome send_one(Connector& c, OutboundMessage m) {
  Outcomes outcomes;
  const std::string id = m.delivery_id;
  c.send(std::move(m), outcomes.completion(id));
  REQUIRE(outcomes.wait(1));
  return outcomes.at(id);
}

ReceiptRequest post(std::string body) { return ReceiptRequest{"POST", {}, "application/json", std::move(body)}; }

}  // namespace

TEST_CASE("sms_http posts the default JSON body, UTF-8 text as is, with its headers") {
  ::setenv("SUNBEAM_TEST_SMS_TOKEN", "t0ken", 1);
  FakeGateway gw;
  gw.route("/sms", [](const HttpRequest&) { return answer(200, R"({"message_id":"gw-7","status":"queued"})"); });
  gw.start();
  auto c = connector(sms_config(gw.url("/sms"), {{"sender", "SUNBEAM"}, {"auth_header", "Bearer ${SUNBEAM_TEST_SMS_TOKEN}"}}));

  const auto o = send_one(*c, sms("d-1"));
  CHECK(o.accepted());
  CHECK(o.gateway_message_id == "gw-7");
  const auto got = gw.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].body ==
        R"({"id":"d-1","to":"+8613800138000","text":"【阳光证券】贵州茅台（600519.SH）今日发布分红公告。","sender":"SUNBEAM"})");
  CHECK(got[0].headers.at("content-type") == "application/json");
  CHECK(got[0].headers.at("authorization") == "Bearer t0ken");
  CHECK_FALSE(got[0].headers.contains("expect"));
}

TEST_CASE("sms_http without a sender leaves it out; a non-JSON 2xx is still accepted") {
  FakeGateway gw;
  gw.route("/sms", [](const HttpRequest&) { return answer(202, "OK", "text/plain"); });
  gw.start();
  auto c = connector(sms_config(gw.url("/sms")));
  const auto o = send_one(*c, sms("d-2", "hi"));
  CHECK(o.accepted());
  CHECK(o.gateway_message_id.empty());
  CHECK(gw.received().at(0).body == R"({"id":"d-2","to":"+8613800138000","text":"hi"})");
  CHECK_FALSE(gw.received().at(0).headers.contains("authorization"));
}

TEST_CASE("sms_http body template: every placeholder, data with quotes, backslashes and newlines stays JSON") {
  FakeGateway gw;
  gw.route("/send", [](const HttpRequest&) { return answer(200, R"({"sid": 12345})"); });
  gw.start();
  const std::string body =
      R"({"msisdn": {to}, "content": {text}, "ref": {id},
          "meta": {"event": {event_id}, "parts": {parts}, "from": {sender}, "note": "keep {id} as written"}})";
  auto c = connector(sms_config(gw.url("/send"), {{"body", body}, {"sender", "Sun\"beam"}, {"message_id_field", "sid"}}));
  auto m = sms("d\"3\\", "He said \"hi\"\n{to} \\ }\" 】\t\x01 end");
  m.event_id = "evt\n\"x\"";
  m.parts = 2;
  const auto o = send_one(*c, m);
  CHECK(o.accepted());
  CHECK(o.gateway_message_id == "12345");  // a number in the answer, kept as text

  boost::system::error_code ec;
  const auto v = boost::json::parse(gw.received().at(0).body, ec);
  REQUIRE_MESSAGE(!ec, gw.received().at(0).body);
  const auto& obj = v.as_object();
  CHECK(obj.at("msisdn").as_string() == m.to);
  CHECK(obj.at("content").as_string() == m.body);
  CHECK(obj.at("ref").as_string() == m.delivery_id);
  const auto& meta = obj.at("meta").as_object();
  CHECK(meta.at("event").as_string() == m.event_id);
  CHECK(meta.at("parts").as_int64() == 2);
  CHECK(meta.at("from").as_string() == "Sun\"beam");
  CHECK(meta.at("note").as_string() == "keep {id} as written");
}

TEST_CASE("sms_http body templates that cannot work are refused when the connector is built") {
  auto bad = [](const std::string& body) {
    auto s = read_sms_http_settings(sms_config("http://127.0.0.1:9/sms", {{"body", body}}));
    REQUIRE_FALSE(s);
    return s.error().message;
  };
  CHECK(bad(R"({"to": {to}, "text": {text}, "x": {account}})").find("unknown placeholder {account}") != std::string::npos);
  CHECK(bad(R"({"to": {to}})").find("{text}") != std::string::npos);
  CHECK(bad(R"({"to": {to}, "text": {text})").find("not JSON") != std::string::npos);
  CHECK(bad(R"({"to": "{to}", "text": "{text}"})").find("{to} and {text}") != std::string::npos);  // quoted: not placeholders
  CHECK(JsonBodyTemplate::compile(R"([{to}, {text}])"));
}

TEST_CASE("sms_http settings: unknown options, bad endpoints and missing environment are errors") {
  auto s = read_sms_http_settings(sms_config("http://127.0.0.1:9/sms", {{"senderr", "x"}}));
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("no option `senderr`") != std::string::npos);
  CHECK_FALSE(read_sms_http_settings(sms_config("ftp://127.0.0.1/sms")));
  CHECK_FALSE(read_sms_http_settings(sms_config("127.0.0.1:8080/sms")));
  ::unsetenv("SUNBEAM_TEST_UNSET_TOKEN");
  auto env = read_sms_http_settings(sms_config("http://127.0.0.1:9/sms", {{"auth_header", "Bearer ${SUNBEAM_TEST_UNSET_TOKEN}"}}));
  REQUIRE_FALSE(env);
  CHECK(env.error().message.find("SUNBEAM_TEST_UNSET_TOKEN") != std::string::npos);
  CHECK_FALSE(read_sms_http_settings(sms_config("http://127.0.0.1:9/sms", {{"receipt_secret", "${SUNBEAM_TEST_UNSET_TOKEN}"}})));
  CHECK_FALSE(read_sms_http_settings(sms_config("http://127.0.0.1:9/sms", {{"message_id_field", ""}})));

  const auto registry = ConnectorRegistry::with_builtin_kinds();
  CHECK(registry.knows("sms_http"));
  auto built = registry.build(sms_config("http://127.0.0.1:9/sms"));
  REQUIRE(built);
  CHECK((*built)->kind() == "sms_http");
}

TEST_CASE("sms_http answers: 2xx accepted, 400 the message's fault, 429 and 5xx the gateway's") {
  FakeGateway gw;
  gw.route("/s/{code}", [](const HttpRequest& r) {
    const unsigned code = unsigned(std::stoi(r.path_params.at("code")));
    return answer(code, R"({"error":"number +8613800138000 refused"})");
  });
  gw.start();
  const std::map<std::string, FailureClass> expected{{"200", FailureClass::none},      {"202", FailureClass::none},
                                                     {"400", FailureClass::message},   {"429", FailureClass::connector},
                                                     {"500", FailureClass::connector}, {"503", FailureClass::connector}};
  for (const auto& [code, failure] : expected) {
    auto c = connector(sms_config(gw.url("/s/" + code)));
    const auto o = send_one(*c, sms("d-" + code));
    CHECK_MESSAGE(o.failure == failure, code << ": " << o.error);
    if (failure != FailureClass::none) {
      CHECK(o.error.find("HTTP " + code) != std::string::npos);
      CHECK(o.error.find("refused") != std::string::npos);               // the gateway's words...
      CHECK(o.error.find("13800138000") == std::string::npos);           // ...with the number masked
    }
  }
}

TEST_CASE("sms_http transport failures: a silent gateway and a hang-up are `session`, a refused port `connector`") {
  FakeGateway gw;
  gw.route("/sms", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.hold_answers(true);
  gw.start();
  auto silent_config = sms_config(gw.url("/sms"));
  silent_config.timeout = std::chrono::milliseconds(300);
  auto silent = connector(silent_config);
  const auto timed_out = send_one(*silent, sms("d-t"));
  CHECK(timed_out.failure == FailureClass::session);
  CHECK(timed_out.error.find("connector gw") != std::string::npos);
  gw.release_held();

  Hangup hangup;
  auto dropped = send_one(*connector(sms_config(hangup.url("/sms"))), sms("d-h"));
  CHECK_MESSAGE(dropped.failure == FailureClass::session, dropped.error);

  auto refused = send_one(*connector(sms_config("http://127.0.0.1:" + std::to_string(refused_port()) + "/sms")), sms("d-r"));
  CHECK_MESSAGE(refused.failure == FailureClass::connector, refused.error);
  CHECK(refused.retryable());
}

TEST_CASE("sms_http: never more than `concurrency` sends in flight, and 200 sends reuse at most that many connections") {
  FakeGateway gw;
  gw.route("/sms", [](const HttpRequest&) { return answer(200, R"({"message_id":"x"})"); });
  gw.gate_answers(4);
  gw.start();
  auto config = sms_config(gw.url("/sms"));
  config.concurrency = 4;
  auto c = connector(config);
  Outcomes outcomes;
  for (int i = 0; i < 200; ++i) c->send(sms("d-" + std::to_string(i)), outcomes.completion("d-" + std::to_string(i)));
  REQUIRE(outcomes.wait(200));
  for (const auto& [key, o] : outcomes.all()) CHECK_MESSAGE(o.accepted(), key << ": " << o.error);
  for (const auto& [key, n] : outcomes.calls()) CHECK_MESSAGE(n == 1, key << " completed " << n << " times");
  CHECK(gw.max_in_flight() <= 4);
  CHECK(gw.max_in_flight() == 4);
  CHECK(c->pool().connections_opened() >= 1);
  CHECK(c->pool().connections_opened() <= 4);
}

TEST_CASE("sms_http stop() with sends queued: every completion exactly once, nothing queued is sent") {
  FakeGateway gw;
  gw.route("/sms", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.hold_answers(true);
  gw.start();
  auto config = sms_config(gw.url("/sms"));
  config.concurrency = 2;
  config.timeout = std::chrono::milliseconds(500);
  auto c = connector(config);
  Outcomes outcomes;
  for (int i = 0; i < 12; ++i) c->send(sms("d-" + std::to_string(i)), outcomes.completion("d-" + std::to_string(i)));
  REQUIRE(gw.wait_for_requests(2));
  c->stop();
  REQUIRE(outcomes.wait(12, std::chrono::seconds(1)));  // all finished by the time stop() returned
  for (const auto& [key, n] : outcomes.calls()) CHECK_MESSAGE(n == 1, key << " completed " << n << " times");
  for (const auto& [key, o] : outcomes.all()) CHECK(o.failure == FailureClass::session);
  CHECK(gw.count() == 2);

  c->send(sms("late"), outcomes.completion("late"));  // after stop: refused at once, still exactly once
  CHECK(outcomes.at("late").failure == FailureClass::session);
}

TEST_CASE("sms_http receipts: one object or an array; statuses; parts; malformed bodies are errors") {
  auto one = parse_sms_http_receipts(post(R"({"id":"d-1","message_id":"gw-1","status":"delivered"})"), "gw");
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one->at(0).reference == "d-1");
  CHECK(one->at(0).gateway_message_id == "gw-1");
  CHECK(one->at(0).outcome == ReceiptOutcome::delivered);
  CHECK(one->at(0).part == 0);

  auto parts = parse_sms_http_receipts(post(R"([
      {"id":"d-2","message_id":"gw-2","status":"DELIVERED","part":1,"parts":2},
      {"id":"d-2","message_id":"gw-2","status":"expired","part":2,"parts":2,"error":"absent subscriber"},
      {"message_id":42,"status":"buffered"}])"), "gw");
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  CHECK(parts->at(0).outcome == ReceiptOutcome::delivered);
  CHECK((parts->at(0).part == 1 && parts->at(0).parts == 2));
  CHECK(parts->at(1).outcome == ReceiptOutcome::undelivered);
  CHECK(parts->at(1).part == 2);
  CHECK(parts->at(1).detail == "expired: absent subscriber");
  CHECK(parts->at(2).outcome == ReceiptOutcome::pending);
  CHECK(parts->at(2).gateway_message_id == "42");

  for (const char* status : {"undelivered", "failed", "rejected", "expired"})
    CHECK(parse_sms_http_receipts(post(std::string(R"({"id":"d","status":")") + status + "\"}"), "gw")->at(0).outcome ==
          ReceiptOutcome::undelivered);
  for (const char* status : {"accepted", "buffered", "enroute"})
    CHECK(parse_sms_http_receipts(post(std::string(R"({"id":"d","status":")") + status + "\"}"), "gw")->at(0).outcome ==
          ReceiptOutcome::pending);
  CHECK(parse_sms_http_receipts(post("[]"), "gw")->empty());

  auto error_of = [](const std::string& body) {
    auto r = parse_sms_http_receipts(post(body), "gw");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad_receipt");
    CHECK(r.error().message.find("connector gw") != std::string::npos);
    return r.error().message;
  };
  CHECK(error_of("id=d-1&status=delivered").find("not JSON") != std::string::npos);
  CHECK(error_of(R"("delivered")").find("object or an array") != std::string::npos);
  CHECK(error_of(R"({"id":"d-1","status":"lost"})").find("unknown status \"lost\"") != std::string::npos);
  CHECK(error_of(R"({"id":"d-1"})").find("no `status`") != std::string::npos);
  CHECK(error_of(R"({"status":"delivered"})").find("names no message") != std::string::npos);
  CHECK(error_of(R"([{"id":"d","status":"delivered"}, 7])").find("receipt 2") != std::string::npos);
  CHECK(error_of(R"({"id":"d","status":"delivered","part":3,"parts":2})").find("part 3 of 2") != std::string::npos);
  CHECK(error_of(R"({"id":"d","status":"delivered","part":"1"})").find("whole numbers") != std::string::npos);
  CHECK(error_of(R"({"id":["d"],"status":"delivered"})").find("`id`") != std::string::npos);
}
