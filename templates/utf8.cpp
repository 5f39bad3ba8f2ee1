#include "templates/utf8.h"

#include <array>
#include <utility>

namespace sunbeam::utf8 {
namespace {

bool is_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

char32_t first_code_point(std::string_view text) {
  char32_t first = replacement_character;
  bool seen = false;
  for_each_code_point(text.substr(0, 4), [&](char32_t cp) {
    if (!std::exchange(seen, true)) first = cp;
  });
  return first;
}

}  // namespace

char32_t code_point_at(std::string_view text, std::size_t i) {
  return i < text.size() ? first_code_point(text.substr(i)) : replacement_character;
}

char32_t code_point_before(std::string_view text, std::size_t i) {
  if (i == 0 || i > text.size()) return replacement_character;
  std::size_t start = i - 1;
  while (start > 0 && i - start < 4 && is_continuation(text[start])) --start;
  return first_code_point(text.substr(start, i - start));
}

bool is_wide_cjk(char32_t cp) {
  // Ranges from Unicode's EastAsianWidth.txt (W and F), Hangul left out.
  static constexpr std::array<std::pair<char32_t, char32_t>, 13> wide{{
      {0x2E80, 0x2FDF},    // CJK radicals, Kangxi radicals
      {0x2FF0, 0x303E},    // ideographic description, CJK symbols and punctuation (、。「」)
      {0x3041, 0x312F},    // hiragana, katakana, bopomofo
      {0x3190, 0x33FF},    // kanbun, CJK strokes, enclosed CJK, CJK compatibility
      {0x3400, 0x4DBF},    // CJK extension A
      {0x4E00, 0x9FFF},    // CJK unified ideographs
      {0xA000, 0xA4CF},    // Yi
      {0xF900, 0xFAFF},    // CJK compatibility ideographs
      {0xFE10, 0xFE19},    // vertical forms
      {0xFE30, 0xFE6F},    // CJK compatibility forms, small form variants
      {0xFF01, 0xFF60},    // fullwidth forms (，：（）！)
      {0xFFE0, 0xFFE6},    // fullwidth signs (￥)
      {0x20000, 0x3FFFD},  // CJK extensions B and later
  }};
  for (const auto& [first, last] : wide)
    if (cp >= first && cp <= last) return true;
  return false;
}

}  // namespace sunbeam::utf8
