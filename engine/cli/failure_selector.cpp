#include "engine/cli/failure_selector.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <array>
#include <string_view>
#include <utility>

namespace sunbeam::cli {
namespace {

// The fields in the order the API documents them, with their names there.
std::array<std::pair<std::string_view, const std::string*>, 5> fields(const FailureSelector& s) {
  return {{{"event", &s.event}, {"since", &s.since}, {"until", &s.until}, {"connector", &s.connector}, {"reason", &s.reason}}};
}

std::string encoded(std::string_view value) { return boost::urls::encode(value, boost::urls::unreserved_chars); }

}  // namespace

bool FailureSelector::empty() const {
  for (const auto& [name, value] : fields(*this))
    if (!value->empty()) return false;
  return true;
}

std::string failures_url(const std::string& api_base, const FailureSelector& selector, std::optional<int> limit) {
  std::string query;
  const auto add = [&](std::string_view name, std::string_view value) {
    query += (query.empty() ? "?" : "&") + std::string(name) + "=" + encoded(value);
  };
  for (const auto& [name, value] : fields(selector))
    if (!value->empty()) add(name, *value);
  if (limit) add("limit", std::to_string(*limit));
  return api_base + "/v1/failures" + query;
}

boost::json::object selector_json(const FailureSelector& selector) {
  boost::json::object out;
  for (const auto& [name, value] : fields(selector))
    if (!value->empty()) out[name] = *value;
  return out;
}

boost::json::object replay_request(const FailureSelector& selector, bool all, bool dry_run) {
  auto fields = selector_json(selector);
  if (all) fields["all"] = true;
  return {{"selector", std::move(fields)}, {"dry_run", dry_run}};
}

std::string describe(const FailureSelector& selector) {
  std::string out;
  for (const auto& [name, value] : fields(selector))
    if (!value->empty()) out += (out.empty() ? "" : ", ") + std::string(name) + " " + *value;
  return out.empty() ? "every failed delivery" : out;
}

}  // namespace sunbeam::cli
