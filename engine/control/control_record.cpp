#include "engine/control/control_record.h"

#include "engine/core/json_fields.h"

#include <boost/json/serialize.hpp>

#include <array>

namespace sunbeam {
namespace {

constexpr std::array<std::string_view, 4> kind_names{"cancel", "suspend", "resume", "digest_now"};

}  // namespace

std::string_view to_string(ControlKind kind) { return kind_names[std::size_t(kind)]; }

std::optional<ControlKind> parse_control_kind(std::string_view text) {
  for (std::size_t i = 0; i < kind_names.size(); ++i)
    if (kind_names[i] == text) return ControlKind(i);
  return std::nullopt;
}

std::string control_key(const ControlRecord& record) {
  switch (record.kind) {
    case ControlKind::cancel: return "cancel:" + record.target;
    case ControlKind::suspend:
    case ControlKind::resume: return "connector:" + record.target;
    case ControlKind::digest_now: return "digest:" + record.target;
  }
  return record.target;
}

std::string serialize(const ControlRecord& record) {
  return boost::json::serialize(boost::json::object{{"kind", to_string(record.kind)},
                                                    {"target", record.target},
                                                    {"by", record.by},
                                                    {"time", record.time_ms}});
}

Result<ControlRecord> parse_control_record(std::string_view json) {
  using namespace json_fields;
  auto parsed = parse_object(json, "malformed_control", "a control record");
  if (!parsed) return parsed.error();
  const auto kind = parse_control_kind(string_or(*parsed, "kind"));
  if (!kind) return make_error("malformed_control", "unknown control order \"" + string_or(*parsed, "kind") + "\"");
  ControlRecord r{*kind, string_or(*parsed, "target"), string_or(*parsed, "by"), int_or(*parsed, "time")};
  if (r.target.empty()) return make_error("malformed_control", "a control order without a target");
  return r;
}

void publish_order(kafka::Producer& producer, const std::string& topic, const ControlRecord& order,
                   std::function<void(Result<void>)> done) {
  if (auto r = producer.produce(topic, control_key(order), serialize(order), done, kafka::QueueFull::fail); !r)
    done(r.error());
}

}  // namespace sunbeam
