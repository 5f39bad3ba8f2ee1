// The JSON body an sms_http connector posts, shaped per gateway (option
// `body`): JSON text in which the placeholders {id} {to} {text} {sender}
// {event_id} {parts} stand where values go, e.g.
//
//   {"msisdn": {to}, "content": {text}, "client_ref": {id}, "from": {sender}}
//
// Each placeholder becomes a JSON value (strings quoted and escaped, {parts} a
// number), so no data can break the JSON. Placeholders are recognised only
// outside JSON strings: "see {id}" inside quotes is left as written.
//
// Compiled once when the connector is built; render() is const and thread-safe.
#pragma once

#include "connectors/connector.h"
#include "engine/core/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

class JsonBodyTemplate {
 public:
  // {"id": {id}, "to": {to}, "text": {text}, "sender": {sender}}, without
  // "sender" when `with_sender` is false (no sender configured).
  static JsonBodyTemplate standard(bool with_sender);
  // Checks that the text is JSON once filled in and that it carries {to} and
  // {text}; an unknown {placeholder} is an error naming it.
  static Result<JsonBodyTemplate> compile(std::string_view text);

  std::string render(const OutboundMessage& msg, std::string_view sender) const;

 private:
  enum class Field { id, to, text, sender, event_id, parts };
  struct Piece {
    std::string literal;  // written first
    bool has_field = false;
    Field field = Field::id;
  };
  std::vector<Piece> pieces_;
};

}  // namespace sunbeam
