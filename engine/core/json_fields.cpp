#include "engine/core/json_fields.h"

#include <boost/json/parse.hpp>

namespace sunbeam::json_fields {

Result<boost::json::object> parse_object(std::string_view text, std::string_view code, std::string_view what) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(std::string(code), std::string(what) + " is not a JSON object");
  return std::move(v.get_object());
}

std::string string_or(const boost::json::object& o, std::string_view key, std::string_view fallback) {
  const auto* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::string(fallback);
}

std::int64_t int_or(const boost::json::object& o, std::string_view key, std::int64_t fallback) {
  const auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return std::int64_t(v->get_uint64());
  return fallback;
}

const boost::json::object* object_or_null(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace sunbeam::json_fields
