#include "templates/template_values.h"

namespace sunbeam {

namespace km = kainjow::mustache;

namespace {

std::vector<std::string> split_dotted(const std::string& name) {
  std::vector<std::string> path;
  for (std::size_t begin = 0;;) {
    const auto dot = name.find('.', begin);
    path.push_back(name.substr(begin, dot - begin));
    if (dot == std::string::npos) return path;
    begin = dot + 1;
  }
}

const km::data* walk(const km::data* from, const std::vector<std::string>& path, std::size_t first = 0) {
  for (std::size_t i = first; from && i < path.size(); ++i) from = from->get(path[i]);
  return from;
}

}  // namespace

const km::data* LayeredContext::root(const std::vector<std::string>& path) const {
  if (const auto* head = values_.own.get(path.front())) return walk(head, path, 1);
  return walk(&values_.shared, path);
}

const km::data* LayeredContext::get(const std::string& name) const {
  if (name == ".") return sections_.empty() ? &values_.own : sections_.back();
  if (name.find('.') == std::string::npos) return lookup(name);  // one name: no path to split
  const auto path = split_dotted(name);
  for (auto it = sections_.rbegin(); it != sections_.rend(); ++it)
    if (const auto* found = walk(*it, path)) return found;
  return root(path);
}

// Partials are refused when a template compiles (compiled_template.h); a
// name is still answered as kainjow's context would.
const km::data* LayeredContext::get_partial(const std::string& name) const { return lookup(name); }

const km::data* LayeredContext::lookup(const std::string& name) const {
  for (auto it = sections_.rbegin(); it != sections_.rend(); ++it)
    if (const auto* found = (*it)->get(name)) return found;
  if (const auto* own = values_.own.get(name)) return own;
  return values_.shared.get(name);
}

}  // namespace sunbeam
