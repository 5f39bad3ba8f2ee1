#include "connectors/registry.h"
#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

using namespace sunbeam;

TEST_CASE("the discard connector accepts every message, keeps nothing and takes no receipts") {
  ConnectorConfig c;
  c.name = "sink";
  c.kind = "discard";
  auto connector = ConnectorRegistry::with_builtin_kinds().build(c);
  REQUIRE(connector);
  CHECK((*connector)->kind() == "discard");
  CHECK_FALSE((*connector)->takes_receipts());
  OutboundMessage msg;
  msg.delivery_id = "d-1";
  msg.to = "+8613800000000";
  msg.body = "你好";
  int calls = 0;
  SendOutcome outcome = SendOutcome::fail(FailureClass::connector, "not called");
  (*connector)->send(msg, [&](SendOutcome o) {
    ++calls;
    outcome = std::move(o);
  });
  CHECK(calls == 1);
  CHECK(outcome.accepted());
  CHECK(outcome.gateway_message_id == "d-1");
}

TEST_CASE("the discard connector refuses options it does not have") {
  ConnectorConfig c;
  c.name = "sink";
  c.kind = "discard";
  c.options["dir"] = "/tmp";
  auto connector = ConnectorRegistry::with_builtin_kinds().build(c);
  REQUIRE_FALSE(connector);
  CHECK(connector.error().message.find("dir") != std::string::npos);
}
