// The smtp connector without a server: its options, and how what libcurl
// reports is classified. The CURLcode / reply pairs are the ones libcurl
// 7.88 gives against aiosmtpd (tests/support/smtp_sink.py), measured with
// curl(1) and by tests/integration/test_smtp.py: a refused RCPT is
// CURLE_SEND_ERROR with reply 550, a 451 after the data is
// CURLE_WEIRD_SERVER_REPLY with 451, a refused AUTH is CURLE_LOGIN_DENIED with
// 535, a MAIL refused for want of AUTH is CURLE_SEND_ERROR with 530.
#include "connectors/failure.h"
#include "connectors/registry.h"
#include "connectors/smtp/smtp_connector.h"

#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <future>
#include <optional>

using namespace sunbeam;

namespace {

ConnectorConfig smtp_config(std::map<std::string, std::string> options) {
  ConnectorConfig c;
  c.name = "mail";
  c.kind = "smtp";
  c.endpoint = "smtp://127.0.0.1:2525";
  c.options = std::move(options);
  return c;
}

}  // namespace

TEST_CASE("SMTP replies are classified by the command they answered") {
  CHECK(classify_smtp_reply(250, SmtpCommand::rcpt) == FailureClass::none);
  CHECK(classify_smtp_reply(550, SmtpCommand::rcpt) == FailureClass::recipient);
  CHECK(classify_smtp_reply(553, SmtpCommand::rcpt) == FailureClass::recipient);
  CHECK(classify_smtp_reply(451, SmtpCommand::rcpt) == FailureClass::connector);  // greylisting: later
  CHECK(classify_smtp_reply(421, SmtpCommand::rcpt) == FailureClass::session);    // closing the connection
  CHECK(classify_smtp_reply(554, SmtpCommand::data) == FailureClass::message);
  CHECK(classify_smtp_reply(550, SmtpCommand::data) == FailureClass::message);
  CHECK(classify_smtp_reply(451, SmtpCommand::data) == FailureClass::connector);
  CHECK(classify_smtp_reply(552, SmtpCommand::mail) == FailureClass::message);    // too big
  CHECK(classify_smtp_reply(550, SmtpCommand::mail) == FailureClass::connector);  // our sender is refused
  CHECK(classify_smtp_reply(530, SmtpCommand::mail) == FailureClass::connector);  // AUTH required
  CHECK(classify_smtp_reply(535, SmtpCommand::session) == FailureClass::connector);
  CHECK(classify_smtp_reply(554, SmtpCommand::session) == FailureClass::connector);  // "no SMTP service here"
}

TEST_CASE("smtp_outcome: libcurl's error codes with the reply code") {
  const auto rcpt_550 = smtp_outcome(CURLE_SEND_ERROR, 550, SmtpCommand::rcpt, "connector mail",
                                     "550 5.1.1 <b***@example.com>: Recipient address rejected");
  CHECK(rcpt_550.failure == FailureClass::recipient);
  CHECK_FALSE(rcpt_550.retryable());
  CHECK(rcpt_550.error == "connector mail: RCPT TO refused: 550 5.1.1 <b***@example.com>: Recipient address rejected");

  const auto data_451 = smtp_outcome(CURLE_WEIRD_SERVER_REPLY, 451, SmtpCommand::data, "c", "451 4.3.0 try again");
  CHECK(data_451.failure == FailureClass::connector);
  CHECK(data_451.retryable());
  CHECK(smtp_outcome(CURLE_RECV_ERROR, 554, SmtpCommand::data, "c", "").failure == FailureClass::message);
  CHECK(smtp_outcome(CURLE_SEND_ERROR, 530, SmtpCommand::mail, "c", "").failure == FailureClass::connector);
  CHECK(smtp_outcome(CURLE_LOGIN_DENIED, 535, SmtpCommand::session, "c", "").failure == FailureClass::connector);
  CHECK(smtp_outcome(CURLE_SEND_ERROR, 421, SmtpCommand::rcpt, "c", "").failure == FailureClass::session);
  // No refusal in the reply: the transport failed, and the CURLcode decides.
  CHECK(smtp_outcome(CURLE_OPERATION_TIMEDOUT, 250, SmtpCommand::rcpt, "c", "").failure == FailureClass::session);
  CHECK(smtp_outcome(CURLE_SEND_ERROR, 354, SmtpCommand::data, "c", "").failure == FailureClass::session);
  CHECK(smtp_outcome(CURLE_COULDNT_CONNECT, 0, SmtpCommand::session, "c", "").failure == FailureClass::connector);
  CHECK(smtp_outcome(CURLE_PEER_FAILED_VERIFICATION, 220, SmtpCommand::session, "c", "").failure == FailureClass::connector);
  CHECK(smtp_outcome(CURLE_USE_SSL_FAILED, 250, SmtpCommand::session, "c", "").failure == FailureClass::connector);
  CHECK(smtp_outcome(CURLE_OK, 250, SmtpCommand::data, "c", "").accepted());
}

TEST_CASE("smtp settings: defaults and every option") {
  auto s = read_smtp_settings(smtp_config({{"from", "阳光证券 <noreply@sunbeam.example>"}}));
  REQUIRE(s);
  CHECK(s->mail.from.address == "noreply@sunbeam.example");
  CHECK(s->mail.from.display_name == "阳光证券");
  CHECK(s->tls == CURLUSESSL_TRY);
  CHECK(s->tls_verify);
  CHECK(s->username.empty());

  ::setenv("SUNBEAM_TEST_SMTP_PASSWORD", "s3cret", 1);
  auto full = read_smtp_settings(smtp_config({{"from", "noreply@sunbeam.example"},
                                              {"message_id_domain", "mail.sunbeam.example"},
                                              {"tls", "required"},
                                              {"tls_verify", "false"},
                                              {"username", "sender"},
                                              {"password", "${SUNBEAM_TEST_SMTP_PASSWORD}"}}));
  REQUIRE(full);
  CHECK(full->tls == CURLUSESSL_ALL);
  CHECK_FALSE(full->tls_verify);
  CHECK(full->password == "s3cret");
  CHECK(full->mail.message_id_domain == "mail.sunbeam.example");
  auto none = read_smtp_settings(smtp_config({{"from", "a@b.example"}, {"tls", "none"}}));
  REQUIRE(none);
  CHECK(none->tls == CURLUSESSL_NONE);
}

TEST_CASE("smtp settings: bad options are errors that name the option") {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
      {{}, "from"},
      {{{"from", "not an address"}}, "from"},
      {{{"from", "a@b.example"}, {"tls", "maybe"}}, "tls"},
      {{{"from", "a@b.example"}, {"tls_verify", "no"}}, "tls_verify"},
      {{{"from", "a@b.example"}, {"ca_file", "/nonexistent/ca.pem"}}, "ca_file"},
      {{{"from", "a@b.example"}, {"username", "u"}}, "username and password"},
      {{{"from", "a@b.example"}, {"message_id_domain", "bad domain"}}, "message_id_domain"},
      {{{"from", "a@b.example"}, {"tsl", "try"}}, "tsl"},
      {{{"from", "a@b.example"}, {"username", "u"}, {"password", "${SUNBEAM_TEST_UNSET_VARIABLE}"}},
       "SUNBEAM_TEST_UNSET_VARIABLE"},
  };
  ::unsetenv("SUNBEAM_TEST_UNSET_VARIABLE");
  for (const auto& [options, named] : cases) {
    CAPTURE(named);
    auto s = read_smtp_settings(smtp_config(options));
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find(named) != std::string::npos);
  }
  auto c = smtp_config({{"from", "a@b.example"}});
  c.endpoint = "http://127.0.0.1:2525";
  CHECK_FALSE(read_smtp_settings(c));
  c.endpoint = "smtps://127.0.0.1:465";
  c.options["tls"] = "none";
  CHECK_FALSE(read_smtp_settings(c));
}

TEST_CASE("the registry builds smtp connectors; a bad `to` fails as recipient before any connection") {
  // Port 9 on 127.0.0.1 (discard): nothing listens in the test environment,
  // and a bad `to` must never get as far as trying.
  auto c = smtp_config({{"from", "noreply@sunbeam.example"}});
  c.endpoint = "smtp://127.0.0.1:9";
  auto built = ConnectorRegistry::with_builtin_kinds().build(c);
  REQUIRE(built);
  Connector& smtp = **built;
  CHECK(smtp.kind() == "smtp");
  OutboundMessage m;
  m.delivery_id = "d1";
  m.channel = Channel::email;
  m.to = "a@example.com\r\nRCPT TO:<evil@evil.example>";
  m.subject = "s";
  m.body = "b";
  std::optional<SendOutcome> outcome;
  smtp.send(m, [&](SendOutcome o) { outcome = std::move(o); });
  REQUIRE(outcome);  // synchronous: no transfer was started
  CHECK(outcome->failure == FailureClass::recipient);
  CHECK(outcome->error.find("evil") == std::string::npos);
  smtp.stop();
}

TEST_CASE("an unreachable server is the connector's failure, retryable") {
  auto c = smtp_config({{"from", "noreply@sunbeam.example"}});
  c.endpoint = "smtp://127.0.0.1:9";
  auto built = ConnectorRegistry::with_builtin_kinds().build(c);
  REQUIRE(built);
  OutboundMessage m;
  m.delivery_id = "d2";
  m.channel = Channel::email;
  m.to = "a@example.com";
  std::promise<SendOutcome> done;
  (*built)->send(m, [&](SendOutcome o) { done.set_value(std::move(o)); });
  auto f = done.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);  // bounded, not timed
  const SendOutcome o = f.get();
  CHECK(o.failure == FailureClass::connector);
  CHECK(o.retryable());
  CHECK(o.error.find("connector mail") != std::string::npos);
  (*built)->stop();
}
