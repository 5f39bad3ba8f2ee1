// Splitting a publish body (one object, an array, or NDJSON) into events.
#include "engine/core/event.h"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

namespace sunbeam {
namespace {

namespace json = boost::json;

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

BodyItem parse_item(std::string_view text, std::size_t line_no) {
  BodyItem item;
  item.bytes = text.size();
  if (text.size() > max_event_bytes) {
    item.error = make_error("too_large", "line " + std::to_string(line_no) + ": the event is " +
                                             std::to_string(text.size()) + " bytes; the limit is 65536");
    return item;
  }
  boost::system::error_code ec;
  // parser::write takes a complete text; trailing data is an error.
  json::parser p;
  p.write(text, ec);
  if (ec) {
    item.error = make_error("malformed_json", "line " + std::to_string(line_no) + ": not valid JSON: " + ec.message());
  } else {
    item.value = p.release();
  }
  return item;
}

}  // namespace

// Tries the whole body as one JSON value first (so a pretty-printed object
// spread over lines is one event); when that fails it reads NDJSON, one event
// a line, so one bad line is reported on its own and the others still count.
SplitBody split_event_body(std::string_view body) {
  SplitBody out;
  boost::system::error_code ec;
  json::parser whole;
  whole.write(body, ec);
  if (!ec) {
    json::value v = whole.release();
    if (v.is_array()) {
      out.batch = true;
      for (auto& element : v.get_array()) {
        BodyItem item;
        item.bytes = json::serialize(element).size();
        if (item.bytes > max_event_bytes) {
          item.error = make_error("too_large", "the event is " + std::to_string(item.bytes) + " bytes; the limit is 65536");
        } else {
          item.value = std::move(element);
        }
        out.items.push_back(std::move(item));
      }
    } else {
      BodyItem item;
      item.bytes = body.size();
      if (item.bytes > max_event_bytes) {
        item.error = make_error("too_large", "the event is " + std::to_string(item.bytes) + " bytes; the limit is 65536");
      } else {
        item.value = std::move(v);
      }
      out.items.push_back(std::move(item));
    }
    return out;
  }
  // NDJSON (or a single malformed document).
  std::size_t line_no = 0, start = 0, non_blank_lines = 0;
  while (start <= body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const auto line = body.substr(start, end - start);
    ++line_no;
    if (!blank(line)) {
      ++non_blank_lines;
      out.items.push_back(parse_item(line, line_no));
    }
    start = end + 1;
  }
  out.batch = non_blank_lines > 1;
  if (out.items.empty()) {
    BodyItem item;
    item.error = make_error("malformed_json", "the body is empty: send an event as a JSON object");
    out.items.push_back(std::move(item));
  }
  return out;
}

}  // namespace sunbeam
