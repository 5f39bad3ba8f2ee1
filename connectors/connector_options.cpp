#include "connectors/connector_options.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace sunbeam {
namespace {
// Result<std::string> does not convert implicitly from a string (Error is
// constructible from one too), so say which side is meant.
Result<std::string> value(std::string s) { return {boost::system::in_place_value, std::move(s)}; }
}  // namespace

Result<std::string> ConnectorOptions::get(std::string_view key, std::string fallback) const {
  const auto it = config_.options.find(std::string(key));
  if (it == config_.options.end()) return value(std::move(fallback));
  // Every ${NAME} in the value is replaced by the environment's NAME.
  const std::string& v = it->second;
  std::string out;
  std::size_t pos = 0;
  for (std::size_t open; (open = v.find("${", pos)) != std::string::npos;) {
    const std::size_t close = v.find('}', open + 2);
    if (close == std::string::npos) break;
    const std::string var = v.substr(open + 2, close - open - 2);
    const char* env = std::getenv(var.c_str());
    if (!env || !*env)
      return make_error("connector_env", "connector " + config_.name + ": " + std::string(key) + " refers to $" + var +
                                             ", which is not set in the environment", "connectors." + config_.name);
    out.append(v, pos, open - pos).append(env);
    pos = close + 1;
  }
  out.append(v, pos);
  return value(std::move(out));
}

Error ConnectorOptions::error(const std::string& what) const {
  return make_error("connector_option", "connector " + config_.name + ": " + what, "connectors." + config_.name);
}

Result<std::string> ConnectorOptions::required(std::string_view key) const {
  if (!config_.options.contains(std::string(key)))
    return error("a " + config_.kind + " connector needs `" + std::string(key) + "`");
  return get(key);
}

Result<void> ConnectorOptions::only(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : config_.options) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return error("the " + config_.kind + " kind has no option `" + key + "` (it knows " + list + ")");
  }
  return {};
}

Result<int> ConnectorOptions::integer(std::string_view key, int fallback, int min, int max) const {
  auto s = get(key);
  if (!s) return s.error();
  if (s->empty()) return fallback;
  int v = 0;
  const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size() || v < min || v > max)
    return error(std::string(key) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return v;
}

}  // namespace sunbeam
