#include "connectors/sms_http/json_body_template.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <utility>

namespace sunbeam {
namespace {

constexpr std::array<std::string_view, 6> field_names{"id", "to", "text", "sender", "event_id", "parts"};

std::string json_string(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

}  // namespace

JsonBodyTemplate JsonBodyTemplate::standard(bool with_sender) {
  auto t = compile(with_sender ? R"({"id":{id},"to":{to},"text":{text},"sender":{sender}})"
                               : R"({"id":{id},"to":{to},"text":{text}})");
  return std::move(*t);  // a constant that compiles (the unit tests say so)
}

Result<JsonBodyTemplate> JsonBodyTemplate::compile(std::string_view text) {
  JsonBodyTemplate t;
  Piece piece;
  bool in_string = false, escaped = false, has_to = false, has_text = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      piece.literal.push_back(c);
      continue;
    }
    if (c == '"') in_string = true;
    std::size_t end = i + 1;
    if (c == '{')
      while (end < text.size() && is_name_char(text[end])) ++end;
    if (c != '{' || end == i + 1 || end >= text.size() || text[end] != '}') {
      piece.literal.push_back(c);
      continue;
    }
    // `{name}` outside a string: JSON has no such thing, so it is ours.
    const std::string_view name = text.substr(i + 1, end - i - 1);
    std::size_t f = 0;
    while (f < field_names.size() && field_names[f] != name) ++f;
    if (f == field_names.size())
      return make_error("body_template", "body: unknown placeholder {" + std::string(name) +
                                             "} (known: {id} {to} {text} {sender} {event_id} {parts})");
    piece.has_field = true;
    piece.field = static_cast<Field>(f);
    has_to |= piece.field == Field::to;
    has_text |= piece.field == Field::text;
    t.pieces_.push_back(std::move(piece));
    piece = Piece{};
    i = end;
  }
  if (!piece.literal.empty()) t.pieces_.push_back(std::move(piece));
  if (!has_to || !has_text) return make_error("body_template", "body: a gateway needs the number and the text: write {to} and {text} where they go");

  // Filled with awkward data, it must still be JSON.
  OutboundMessage sample;
  sample.delivery_id = "d\"1";
  sample.event_id = "e\\1";
  sample.to = "+8613800000000";
  sample.body = "【测试】\"quoted\"\n{text}";
  boost::system::error_code ec;
  boost::json::parse(t.render(sample, "s\""), ec);
  if (ec) return make_error("body_template", "body: not JSON once its placeholders are filled in (" + ec.message() + ")");
  return t;
}

std::string JsonBodyTemplate::render(const OutboundMessage& msg, std::string_view sender) const {
  std::string out;
  for (const Piece& p : pieces_) {
    out += p.literal;
    if (!p.has_field) continue;
    switch (p.field) {
      case Field::id: out += json_string(msg.delivery_id); break;
      case Field::to: out += json_string(msg.to); break;
      case Field::text: out += json_string(msg.body); break;
      case Field::sender: out += json_string(sender); break;
      case Field::event_id: out += json_string(msg.event_id); break;
      case Field::parts: out += std::to_string(msg.parts); break;
    }
  }
  return out;
}

}  // namespace sunbeam
