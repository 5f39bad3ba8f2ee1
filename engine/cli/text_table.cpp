#include "engine/cli/text_table.h"

#include <algorithm>
#include <utility>

namespace sunbeam::cli {
namespace {

constexpr std::size_t column_gap = 2;
constexpr std::size_t min_last_column = 8;

// One code point from the front of `text`; a byte that does not start valid
// UTF-8 stands for itself (one byte, one column), so nothing is lost.
struct CodePoint {
  char32_t value;
  std::size_t bytes;
};

CodePoint next_code_point(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  const std::size_t n = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || n > text.size()) return {b0, 1};
  char32_t cp = n == 1 ? b0 : (b0 & (0x7F >> n));
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) return {b0, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, n};
}

// Hand-written: libc's wcwidth() follows the process locale, which the CLI
// does not set. The East Asian Wide and Fullwidth ranges of UAX #11 cover the
// Chinese, the fullwidth punctuation (【】，) and the Hangul a name or a
// gateway's reason can hold; combining marks and zero-width spaces take none.
std::size_t columns(char32_t c) {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F)) return 0;
  static constexpr std::pair<char32_t, char32_t> wide[] = {
      {0x1100, 0x115F},  {0x2E80, 0x303E},  {0x3041, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF},
      {0xA000, 0xA4CF},  {0xAC00, 0xD7A3},  {0xF900, 0xFAFF}, {0xFE30, 0xFE4F}, {0xFF00, 0xFF60},
      {0xFFE0, 0xFFE6},  {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD}};
  for (const auto& [first, last] : wide)
    if (c >= first && c <= last) return 2;
  return 1;
}

// A cell prints on one line: line breaks and tabs (a gateway's answer can
// hold them) become spaces.
std::string one_line(std::string cell) {
  std::replace_if(cell.begin(), cell.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return cell;
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  while (!text.empty()) {
    const auto cp = next_code_point(text);
    width += columns(cp.value);
    text.remove_prefix(cp.bytes);
  }
  return width;
}

std::string fit_width(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  if (width == 0) return {};
  std::string out;
  std::size_t used = 0;
  while (!text.empty()) {
    const auto cp = next_code_point(text);
    const auto w = columns(cp.value);
    if (used + w > width - 1) break;  // room for the ellipsis
    out.append(text.substr(0, cp.bytes));
    used += w;
    text.remove_prefix(cp.bytes);
  }
  return out + "\u2026";
}

TextTable::TextTable(std::vector<std::string> header) { add(std::move(header)); }

void TextTable::add(std::vector<std::string> row) {
  if (!rows_.empty()) row.resize(rows_.front().size());
  for (auto& cell : row) cell = one_line(std::move(cell));
  rows_.push_back(std::move(row));
}

void TextTable::print(std::ostream& out, std::optional<std::size_t> max_width) const {
  const std::size_t n = rows_.front().size();
  if (n == 0) return;
  std::vector<std::size_t> width(n, 0);
  for (const auto& r : rows_)
    for (std::size_t i = 0; i < n; ++i) width[i] = std::max(width[i], display_width(r[i]));
  std::size_t fixed = 0;  // the columns before the last, with their gaps
  for (std::size_t i = 0; i + 1 < n; ++i) fixed += width[i] + column_gap;
  if (max_width) width[n - 1] = std::min(width[n - 1], std::max(min_last_column, *max_width > fixed ? *max_width - fixed : 0));

  for (std::size_t row = 0; row < rows_.size(); ++row) {
    for (std::size_t i = 0; i + 1 < n; ++i)
      out << rows_[row][i] << std::string(width[i] - display_width(rows_[row][i]) + column_gap, ' ');
    out << fit_width(rows_[row][n - 1], width[n - 1]) << "\n";
    if (row == 0) out << std::string(fixed + width[n - 1], '-') << "\n";
  }
}

}  // namespace sunbeam::cli
