#include "templates/plain_text.h"

#include "templates/utf8.h"

#include <array>

namespace sunbeam {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_line_break(char c) { return c == '\n' || c == '\r'; }

// The byte length of a Unicode line separator starting at `text[i]`, else 0.
std::size_t line_separator_length(std::string_view text, std::size_t i) {
  static constexpr std::array<std::string_view, 3> separators{"\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9"};
  for (auto separator : separators)
    if (text.substr(i).starts_with(separator)) return separator.size();
  return 0;
}

// Folds runs of ASCII whitespace to one space and trims the ends; `drop_run`
// may veto the space for a run (told whether it held a line break and the
// text on either side).
template <class DropRun>
std::string fold_whitespace(std::string_view text, DropRun&& drop_run) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (!is_ascii_space(text[i])) {  // a run of text, copied at once
      std::size_t end = i + 1;
      while (end < text.size() && !is_ascii_space(text[end])) ++end;
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    bool held_line_break = false;
    std::size_t end = i;
    for (; end < text.size() && is_ascii_space(text[end]); ++end) held_line_break = held_line_break || is_line_break(text[end]);
    const bool inside = !out.empty() && end < text.size();
    if (inside && !drop_run(held_line_break, std::string_view(out), text.substr(end))) out += ' ';
    i = end;
  }
  return out;
}

}  // namespace

std::string fold_sms_whitespace(std::string_view text) {
  return fold_whitespace(text, [](bool held_line_break, std::string_view before, std::string_view after) {
    return held_line_break && utf8::is_wide_cjk(utf8::code_point_before(before, before.size())) &&
           utf8::is_wide_cjk(utf8::code_point_at(after, 0));
  });
}

std::string subject_line(std::string_view text) {
  std::string spaced;
  spaced.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) {
      spaced += ' ';
      ++i;
    } else if (const auto n = line_separator_length(text, i)) {
      spaced += ' ';
      i += n;
    } else {
      spaced += text[i++];
    }
  }
  return fold_whitespace(spaced, [](bool, std::string_view, std::string_view) { return false; });
}

std::string trim_blank_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {  // copied a line at a time, each CR of a CRLF left out
    const auto crlf = text.find("\r\n", i);
    const auto end = crlf == std::string_view::npos ? text.size() : crlf;
    out.append(text.substr(i, end - i));
    i = crlf == std::string_view::npos ? text.size() : crlf + 1;
  }
  const auto first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto line_start = out.rfind('\n', first);
  const auto begin = line_start == std::string::npos ? 0 : line_start + 1;
  const auto end = out.find_last_not_of(" \t\r\n") + 1;
  return out.substr(begin, end - begin);
}

}  // namespace sunbeam
