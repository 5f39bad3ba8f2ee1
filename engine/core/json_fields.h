// Reading typed fields out of Boost.JSON objects, for the parsers of the
// records sunbeam itself writes (deliveries, status records). Absent or
// mistyped fields read as the given default: these are our own records, and
// their schema is checked by the tests that round-trip them.
#pragma once

#include "engine/core/result.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sunbeam::json_fields {

// Parses `text` as one JSON object; `what` names it in the error.
Result<boost::json::object> parse_object(std::string_view text, std::string_view code, std::string_view what);

std::string string_or(const boost::json::object& o, std::string_view key, std::string_view fallback = {});
std::int64_t int_or(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0);
const boost::json::object* object_or_null(const boost::json::object& o, std::string_view key);

}  // namespace sunbeam::json_fields
