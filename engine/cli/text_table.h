// Plain text tables for people: columns padded to their widest cell, a rule
// under the header, and optionally every line cut to a terminal's width.
// Widths are display columns (a CJK character takes two), not bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam::cli {

// The columns a terminal gives `text` (UTF-8).
std::size_t display_width(std::string_view text);
// `text` cut to at most `width` columns, ending in "…" when something was cut.
std::string fit_width(std::string_view text, std::size_t width);

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  // A row has as many cells as the header (missing cells print empty).
  void add(std::vector<std::string> row);
  std::size_t rows() const { return rows_.size() - 1; }
  // With `max_width`, the last column is cut so that each line fits (it keeps
  // at least a few columns, so a very narrow terminal wraps rather than shows
  // nothing); without it, nothing is cut.
  void print(std::ostream& out, std::optional<std::size_t> max_width = std::nullopt) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the header first
};

}  // namespace sunbeam::cli
