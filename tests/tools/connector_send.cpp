// connector_send: a test driver that sends messages through one configured
// connector, without Kafka or the engine around it, so integration tests can
// drive a connector against a real gateway (Kannel, an SMTP server) and see
// exactly what it said about each message.
//
//   connector_send --config sunbeam.yaml --connector NAME < messages.ndjson
//
// stdin: one OutboundMessage per line as JSON, fields named as in
// connectors/connector.h (delivery_id, event_id, account, channel "sms" or
// "email", to, subject, body, html, parts, encoding). All lines are read and
// checked before anything is sent, so bad input sends nothing.
// stdout: one JSON line per message as its send completes (completion order):
//   {"delivery_id","accepted","failure":"none|recipient|message|connector|session",
//    "gateway_message_id","error"}
// At most the connector's `concurrency` sends are in flight at once.
// Exit: 0 when every message has an outcome (accepted or not), 1 on a config
// problem or bad input (with its line number), 2 on a usage error.
#include "config/config.h"
#include "connectors/connector.h"
#include "connectors/failure.h"
#include "connectors/registry.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using namespace sunbeam;

namespace {

// One input line as an OutboundMessage; unknown or mistyped fields are errors
// (a typo in a test's input should fail loudly, not send an empty field).
Result<OutboundMessage> parse_message(std::string_view line) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(line, ec);
  if (ec) return make_error("bad_json", "not JSON: " + ec.message());
  if (!v.is_object()) return make_error("bad_json", "not a JSON object");
  OutboundMessage m;
  for (const auto& [key, value] : v.get_object()) {
    std::string* text = nullptr;
    if (key == "delivery_id") text = &m.delivery_id;
    else if (key == "event_id") text = &m.event_id;
    else if (key == "account") text = &m.account;
    else if (key == "to") text = &m.to;
    else if (key == "subject") text = &m.subject;
    else if (key == "body") text = &m.body;
    else if (key == "html") text = &m.html;
    else if (key == "encoding") text = &m.encoding;
    if (text) {
      if (!value.is_string()) return make_error("bad_field", std::string(key) + " must be a string", key);
      *text = std::string(value.get_string());
    } else if (key == "channel") {
      const auto channel = value.is_string() ? parse_channel(value.get_string()) : std::nullopt;
      if (!channel) return make_error("bad_field", "channel must be \"sms\" or \"email\"", key);
      m.channel = *channel;
    } else if (key == "parts") {
      if (!value.is_int64() || value.get_int64() < 1 || value.get_int64() > 255)
        return make_error("bad_field", "parts must be a whole number from 1 to 255", key);
      m.parts = int(value.get_int64());
    } else {
      return make_error("bad_field", "unknown field \"" + std::string(key) + "\"", key);
    }
  }
  if (m.delivery_id.empty()) return make_error("missing_field", "delivery_id is missing", "delivery_id");
  if (m.to.empty()) return make_error("missing_field", "to is missing", "to");
  return m;
}

// Sends with at most `limit` in flight and prints each outcome as it comes.
// Completions arrive on the connector's threads (or inside send() itself), so
// the count and stdout are guarded by one mutex.
class Sender {
 public:
  Sender(Connector& connector, int limit) : connector_(connector), limit_(limit) {}

  void send(OutboundMessage msg) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return in_flight_ < limit_; });
      ++in_flight_;
    }
    std::string id = msg.delivery_id;
    // Not under the lock: the completion may run before send() returns.
    connector_.send(std::move(msg), [this, id = std::move(id)](SendOutcome o) { completed(id, o); });
  }

  void wait_all() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return in_flight_ == 0; });
  }

 private:
  void completed(const std::string& id, const SendOutcome& o) {
    boost::json::object line{{"delivery_id", id},
                             {"accepted", o.accepted()},
                             {"failure", to_string(o.failure)},
                             {"gateway_message_id", o.gateway_message_id},
                             {"error", o.error}};
    std::string text = boost::json::serialize(line);
    text.push_back('\n');
    std::lock_guard lock(mutex_);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);  // a reader sees each outcome as soon as it happens
    --in_flight_;
    changed_.notify_all();
  }

  Connector& connector_;
  const int limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"connector_send: send NDJSON messages from stdin through one configured connector", "connector_send"};
  std::string config_file, connector_name;
  app.add_option("--config", config_file, "sunbeam configuration file")->required();
  app.add_option("--connector", connector_name, "name of the connector in the configuration")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  const ConfigLoad load = load_config(config_file);
  if (!load.config) {
    for (const auto& p : load.problems) std::cerr << "connector_send: " << p.to_string() << "\n";
    return 1;
  }
  const ConnectorConfig* cc = load.config->connector(connector_name);
  if (!cc) {
    std::cerr << "connector_send: " << config_file << ": no connector is named \"" << connector_name << "\"\n";
    return 1;
  }

  std::vector<OutboundMessage> messages;
  int line_no = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto m = parse_message(line);
    if (!m) {
      std::cerr << "connector_send: stdin:" << line_no << ": " << m.error().message << "\n";
      return 1;
    }
    messages.push_back(std::move(*m));
  }

  auto built = ConnectorRegistry::with_builtin_kinds().build(*cc);
  if (!built) {
    std::cerr << "connector_send: " << built.error().message << "\n";
    return 1;
  }
  Connector& connector = **built;
  Sender sender(connector, cc->concurrency);
  for (auto& m : messages) sender.send(std::move(m));
  sender.wait_all();
  connector.stop();
  return 0;
}
