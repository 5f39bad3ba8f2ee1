#include "connectors/outbox/outbox_connector.h"

#include "engine/core/time_format.h"

#include <boost/json/serialize.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sunbeam {

std::filesystem::path outbox_path(const ConnectorConfig& config) {
  const auto it = config.options.find("dir");
  const std::filesystem::path dir = it != config.options.end() ? it->second : config.endpoint;
  return dir / (config.name + ".ndjson");
}

Result<std::unique_ptr<Connector>> OutboxConnector::create(const ConnectorConfig& config) {
  const auto path = outbox_path(config);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return make_error("outbox", "connector " + config.name + ": cannot create " + path.parent_path().string() + ": " + ec.message());
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return make_error("outbox", "connector " + config.name + ": cannot open " + path.string() + ": " + std::strerror(errno));
  return std::unique_ptr<Connector>(new OutboxConnector(config.name, path, f));
}

OutboxConnector::OutboxConnector(std::string name, std::filesystem::path path, std::FILE* file)
    : name_(std::move(name)), path_(std::move(path)), file_(file) {}

OutboxConnector::~OutboxConnector() { stop(); }

void OutboxConnector::stop() {
  std::lock_guard lock(mutex_);
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void OutboxConnector::send(OutboundMessage msg, SendCompletion done) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  boost::json::object line{{"delivery_id", msg.delivery_id}, {"event_id", msg.event_id}, {"account", msg.account},
                           {"channel", to_string(msg.channel)}, {"to", msg.to}};
  if (msg.channel == Channel::email) line["subject"] = msg.subject;
  line["body"] = msg.body;
  line["parts"] = msg.parts;
  if (!msg.encoding.empty()) line["encoding"] = msg.encoding;
  line["sent_at"] = format_rfc3339_utc(now);
  std::string text = boost::json::serialize(line);
  text.push_back('\n');

  SendOutcome outcome = SendOutcome::ok(msg.delivery_id);
  {
    std::lock_guard lock(mutex_);
    // One write and a flush per line: a crash leaves whole lines only, and a
    // reader (the demo, an auditor) sees each message as soon as it is sent.
    if (!file_) {
      outcome = SendOutcome::fail(FailureClass::connector, "outbox " + name_ + " is stopped");
    } else if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
      outcome = SendOutcome::fail(FailureClass::connector, "outbox " + path_.string() + ": " + std::strerror(errno));
    }
  }
  done(std::move(outcome));
}

}  // namespace sunbeam
