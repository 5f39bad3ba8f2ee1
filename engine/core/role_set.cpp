#include "engine/core/role_set.h"

namespace sunbeam {

Result<RoleSet> RoleSet::parse(std::string_view list) {
  RoleSet set{false, false, false, false, false};
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    const auto name = list.substr(start, end - start);
    if (name == "ingest") set.ingest = true;
    else if (name == "fanout") set.fanout = true;
    else if (name == "dispatch") set.dispatch = true;
    else if (name == "digest") set.digest = true;
    else if (name == "api") set.api = true;
    else
      return make_error("usage", "unknown role \"" + std::string(name) + "\" (roles: ingest, fanout, dispatch, digest, api)");
    start = end + 1;
  }
  return set;
}

std::string RoleSet::to_string() const {
  std::string out;
  for (auto [on, name] : {std::pair{ingest, "ingest"}, {fanout, "fanout"}, {dispatch, "dispatch"}, {digest, "digest"},
                          {api, "api"}})
    if (on) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

}  // namespace sunbeam
