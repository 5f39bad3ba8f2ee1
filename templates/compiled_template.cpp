#include "templates/compiled_template.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

namespace sunbeam {
namespace {

std::string keep_as_is(const std::string& text) { return text; }

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// kainjow ends its parse errors with the byte offset of the tag: "... at 42".
std::optional<std::size_t> error_offset(std::string_view message) {
  const auto at = message.rfind(" at ");
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t offset = 0;
  const auto digits = message.substr(at + 4);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return offset;
}

int line_at(const TemplateSource& source, std::size_t offset) {
  const auto stop = source.text.begin() + std::ptrdiff_t(std::min(offset, source.text.size()));
  return source.first_line + int(std::count(source.text.begin(), stop, '\n'));
}

std::string quoted_name(std::string_view message) {
  const auto open = message.find('"');
  const auto close = message.find('"', open + 1);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return std::string(message.substr(open + 1, close - open - 1));
}

// kainjow's wording ("Unclosed section \"x\" at 42"), made to say what to do;
// the offset becomes the problem's line.
std::string describe_parse_error(std::string_view message) {
  if (const auto at = message.rfind(" at "); error_offset(message)) message = message.substr(0, at);
  const auto name = quoted_name(message);
  if (message.starts_with("Unclosed section"))
    return "section {{#" + name + "}} is never closed: add {{/" + name + "}}";
  if (message.starts_with("Unopened section")) return "{{/" + name + "}} closes a section that is not open";
  if (message.starts_with("Unclosed tag")) return "a tag opened with {{ is never closed with }}";
  return std::string(message);
}

Problem parse_problem(const TemplateSource& source, std::string_view message) {
  const auto offset = error_offset(message);
  return {source.file.string(), offset ? line_at(source, *offset) : source.first_line, describe_parse_error(message)};
}

// The first partial or set-delimiter tag in `text` (see compile()), read the
// way kainjow reads tags: {{ ... }}, or {{{ ... }}} for an unescaped variable.
std::optional<Problem> find_refused_tag(const TemplateSource& source) {
  const std::string_view text = source.text;
  for (auto open = text.find("{{"); open != std::string_view::npos;) {
    const bool triple = text.substr(open).starts_with("{{{");
    const std::string_view close_delimiter = triple ? "}}}" : "}}";
    const auto contents_begin = open + (triple ? 3 : 2);
    const auto close = text.find(close_delimiter, contents_begin);
    if (close == std::string_view::npos) return std::nullopt;  // kainjow has refused it already
    const auto contents = trim(text.substr(contents_begin, close - contents_begin));
    if (!triple && contents.starts_with('>'))
      return Problem{source.file.string(), line_at(source, open),
                     "partials ({{> name}}) are not supported: write the text into the template"};
    if (!triple && contents.starts_with('='))
      return Problem{source.file.string(), line_at(source, open), "changing the delimiters ({{=...=}}) is not supported"};
    open = text.find("{{", close + close_delimiter.size());
  }
  return std::nullopt;
}

}  // namespace

CompiledTemplate::CompiledTemplate(const TemplateSource& source, Escaping escaping)
    : file_(source.file), template_(source.text) {
  if (escaping == Escaping::none) template_.set_custom_escape(keep_as_is);
}

Result<std::unique_ptr<CompiledTemplate>, Problem> CompiledTemplate::compile(const TemplateSource& source,
                                                                            Escaping escaping) {
  std::unique_ptr<CompiledTemplate> compiled(new CompiledTemplate(source, escaping));
  if (!compiled->template_.is_valid()) return parse_problem(source, compiled->template_.error_message());
  if (auto refused = find_refused_tag(source)) return *refused;
  return compiled;
}

Result<std::string> CompiledTemplate::render(const TemplateValues& values) const {
  LayeredContext context(values);
  std::lock_guard lock(mutex_);
  std::string text = template_.render(context);
  // Unreachable with data made from JSON (no lambdas) and partials refused,
  // but a failed render leaves kainjow's template unusable: say so loudly.
  if (!template_.is_valid())
    return make_error("template_render", file_.string() + ": " + template_.error_message() +
                                             " (this template fails every render until the engine reloads it)");
  // Spelled out: a std::string could also make an Error (C++20 aggregate
  // initialisation), so result's implicit conversions stand aside.
  return {boost::system::in_place_value, std::move(text)};
}

}  // namespace sunbeam
