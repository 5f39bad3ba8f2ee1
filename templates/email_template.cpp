#include "templates/email_template.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace sunbeam {
namespace {

constexpr std::array<std::string_view, 3> part_names{"subject", "text", "html"};

std::string_view trim_right(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// "--- text ---" -> "text"; nullopt for a line that is not a marker.
std::optional<std::string_view> marker_name(std::string_view line) {
  line = trim_right(line);
  if (line.size() <= 8 || !line.starts_with("--- ") || !line.ends_with(" ---")) return std::nullopt;
  return line.substr(4, line.size() - 8);
}

bool is_preamble_line(std::string_view line) {
  line = trim_right(line);
  return line.empty() || (line.starts_with("{{!") && line.ends_with("}}"));
}

// Counts the lines holding more than whitespace.
int non_blank_lines(std::string_view text) {
  int count = 0;
  bool blank = true;
  for (char c : text) {
    if (c == '\n') {
      count += blank ? 0 : 1;
      blank = true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      blank = false;
    }
  }
  return count + (blank ? 0 : 1);
}

std::optional<std::size_t> part_index(std::string_view name) {
  for (std::size_t i = 0; i < part_names.size(); ++i)
    if (part_names[i] == name) return i;
  return std::nullopt;
}

TemplateSource& part(EmailTemplateSource& email, std::size_t index) {
  return index == 0 ? email.subject : index == 1 ? email.text : email.html;
}

}  // namespace

Result<EmailTemplateSource, Problem> split_email_template(std::string_view file_text, const std::filesystem::path& file) {
  EmailTemplateSource email;
  std::array<bool, 3> seen{};
  TemplateSource* current = nullptr;
  int line_number = 0;
  const auto problem = [&](int line, std::string what) { return Problem{file.string(), line, std::move(what)}; };

  for (std::size_t start = 0; start < file_text.size();) {
    const auto end = std::min(file_text.find('\n', start), file_text.size());
    const auto line = file_text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (const auto name = marker_name(line)) {
      const auto index = part_index(*name);
      if (!index)
        return problem(line_number, "unknown part \"--- " + std::string(*name) + " ---\" (the parts are subject, text, html)");
      if (std::exchange(seen[*index], true)) return problem(line_number, "the " + std::string(*name) + " part appears twice");
      current = &part(email, *index);
      current->file = file;
      current->first_line = line_number + 1;
      continue;
    }
    if (!current) {
      if (!is_preamble_line(line))
        return problem(line_number, "text before the first part: start the parts with --- subject ---");
      continue;
    }
    current->text.append(line).append("\n");
  }

  for (std::size_t i = 0; i < part_names.size(); ++i)
    if (!seen[i])
      return problem(0, "the " + std::string(part_names[i]) + " part is missing (a line \"--- " + std::string(part_names[i]) +
                            " ---\" and the text below it)");
  if (non_blank_lines(email.subject.text) > 1)
    return problem(email.subject.first_line, "the subject is one line (is a --- text --- marker missing?)");
  return email;
}

}  // namespace sunbeam
