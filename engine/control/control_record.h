// Operators' orders on the `control` topic (compacted, keyed per target): the
// roles that must obey them read the whole topic from its start, so an order
// reaches every instance, survives restarts, and a later order on the same
// target (resume after suspend) replaces the earlier one.
//   cancel      an event published by mistake: dispatch and the digest end its
//               deliveries not yet sent `cancelled`
//   suspend     a connector sends nothing until resumed; deliveries wait
//   resume
//   digest_now  the digest role builds and sends a date's digest now
#pragma once

#include "engine/core/result.h"
#include "engine/kafka/producer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sunbeam {

enum class ControlKind : std::uint8_t { cancel, suspend, resume, digest_now };

std::string_view to_string(ControlKind kind);
std::optional<ControlKind> parse_control_kind(std::string_view text);

struct ControlRecord {
  ControlKind kind = ControlKind::cancel;
  std::string target;  // the event id, the connector's name, or the digest's date
  std::string by;      // the API token's name that gave the order ("" when open)
  std::int64_t time_ms = 0;
};

// The compaction key: one per event, connector or date ("connector:gw": a
// resume replaces the suspend).
std::string control_key(const ControlRecord& record);
std::string serialize(const ControlRecord& record);
Result<ControlRecord> parse_control_record(std::string_view json);

// Puts an order on the control topic; `done` is told once Kafka has it (or
// why not). Never waits: an HTTP thread may call it.
void publish_order(kafka::Producer& producer, const std::string& topic, const ControlRecord& order,
                   std::function<void(Result<void>)> done);

}  // namespace sunbeam
