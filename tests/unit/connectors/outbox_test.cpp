#include "connectors/outbox/outbox_connector.h"
#include "connectors/registry.h"

#include <boost/json/parse.hpp>
#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

ConnectorConfig outbox_config(const fs::path& dir) {
  ConnectorConfig c;
  c.name = "audit";
  c.kind = "outbox";
  c.options["dir"] = dir.string();
  return c;
}

std::vector<std::string> lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("the outbox appends one JSON line per message with the SPEC's fields") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-outbox-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto built = ConnectorRegistry::with_builtin_kinds().build(outbox_config(dir));
  REQUIRE(built);
  Connector& outbox = **built;
  CHECK(outbox.kind() == "outbox");

  OutboundMessage sms{"d1", "e1", "A1", Channel::sms, "+8613800000001", "", "【阳光证券】您好", "", 1, "ucs2"};
  OutboundMessage mail{"d2", "e1", "A1", Channel::email, "a@example.com", "Subject \"quoted\"", "text\nbody", "<p>x</p>", 1, ""};
  int done = 0;
  outbox.send(sms, [&](SendOutcome o) { CHECK(o.accepted()); ++done; });
  outbox.send(mail, [&](SendOutcome o) { CHECK(o.accepted()); ++done; });
  CHECK(done == 2);

  const auto file = dir / "audit.ndjson";
  auto got = lines(file);
  REQUIRE(got.size() == 2);
  auto first = boost::json::parse(got[0]).as_object();
  for (auto key : {"delivery_id", "event_id", "account", "channel", "to", "body", "parts", "encoding", "sent_at"})
    CHECK_MESSAGE(first.contains(key), key);
  CHECK(first.at("body").as_string() == "【阳光证券】您好");
  CHECK_FALSE(first.contains("subject"));
  auto second = boost::json::parse(got[1]).as_object();
  CHECK(second.at("subject").as_string() == "Subject \"quoted\"");
  CHECK(second.at("body").as_string() == "text\nbody");  // newlines escaped: still one line

  outbox.stop();
  bool failed = false;
  outbox.send(sms, [&](SendOutcome o) { failed = !o.accepted() && o.retryable(); });
  CHECK(failed);
  fs::remove_all(dir);
}

TEST_CASE("concurrent sends never interleave lines") {
  const auto dir = fs::temp_directory_path() / ("sunbeam-outbox-mt-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto built = ConnectorRegistry::with_builtin_kinds().build(outbox_config(dir));
  REQUIRE(built);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i)
        (*built)->send(OutboundMessage{std::to_string(t * 1000 + i), "e", "A", Channel::sms, "+86138", "", std::string(300, 'x'), "", 2, "gsm7"},
                       [](SendOutcome) {});
    });
  for (auto& t : threads) t.join();
  auto got = lines(dir / "audit.ndjson");
  CHECK(got.size() == 1000);
  for (const auto& l : got) CHECK_NOTHROW(boost::json::parse(l));
  fs::remove_all(dir);
}

TEST_CASE("an unknown kind is a clear error") {
  ConnectorConfig c;
  c.name = "x";
  c.kind = "pigeon";
  auto r = ConnectorRegistry::with_builtin_kinds().build(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("pigeon") != std::string::npos);
}
