#include "templates/mustache_data.h"

#include <boost/json/object.hpp>

#include <array>
#include <charconv>

namespace sunbeam {

namespace km = kainjow::mustache;

std::string format_number(const boost::json::value& number) {
  if (number.is_int64()) return std::to_string(number.get_int64());
  if (number.is_uint64()) return std::to_string(number.get_uint64());
  // Fixed notation with the fewest digits that round-trip (Boost.JSON's own
  // serializer would write 28.88 as 2.888E1). A JSON double is finite, and
  // 1e308 in fixed form is 309 digits, well inside the buffer.
  std::array<char, 400> buffer;
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number.get_double(),
                                       std::chars_format::fixed);
  if (ec != std::errc{}) return {};
  std::string text(buffer.data(), end);
  return text == "-0" ? "0" : text;
}

km::data to_mustache_data(const boost::json::object& object) {
  km::data data(km::data::type::object);
  for (const auto& [key, value] : object) data.set(std::string(key), to_mustache_data(value));
  return data;
}

km::data to_mustache_data(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::string:
      if (value.get_string().empty()) return km::data(false);
      return km::data(std::string(value.get_string()));
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return km::data(format_number(value));
    case boost::json::kind::bool_: return km::data(value.get_bool());
    case boost::json::kind::null: return km::data(false);
    case boost::json::kind::array: {
      km::data list(km::data::type::list);
      for (const auto& item : value.get_array()) list.push_back(to_mustache_data(item));
      return list;
    }
    case boost::json::kind::object: return to_mustache_data(value.get_object());
  }
  return km::data(false);
}

}  // namespace sunbeam
