// UTF-8 decoding and the one Unicode property the renderer needs (East Asian
// width), shared by SMS part counting and whitespace folding. Hand-written:
// the Debian libraries at hand (Boost.Locale aside, which drags in ICU for
// this) offer no light code-point iterator.
#pragma once

#include <cstddef>
#include <string_view>

namespace sunbeam::utf8 {

inline constexpr char32_t replacement_character = 0xFFFD;

// Calls `visit(code_point)` for each code point of `text`. An invalid or
// truncated sequence yields U+FFFD and decoding resumes at the next byte, as
// a gateway would have to substitute something for it.
template <class Visitor>
void for_each_code_point(std::string_view text, Visitor&& visit) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) {
      visit(replacement_character);
      ++i;
      continue;
    }
    char32_t code_point = length == 1 ? lead : lead & (0x3F >> (length - 1));
    bool well_formed = true;
    for (std::size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(text[i + k]);
      well_formed = well_formed && (continuation & 0xC0) == 0x80;
      code_point = (code_point << 6) | (continuation & 0x3F);
    }
    visit(well_formed ? code_point : replacement_character);
    i += well_formed ? length : 1;
  }
}

// The code point that starts at `text[i]` (i must be a lead byte), or the
// one that ends just before `text[i]`: what whitespace folding looks at on
// either side of a line break.
char32_t code_point_at(std::string_view text, std::size_t i);
char32_t code_point_before(std::string_view text, std::size_t i);

// East Asian Wide or Fullwidth (UAX #11) in the scripts written without
// spaces between words: CJK ideographs and punctuation, fullwidth forms,
// kana. Hangul is wide too but Korean puts spaces between words, so it is
// left out (the same exception CSS makes when it folds line breaks).
bool is_wide_cjk(char32_t code_point);

}  // namespace sunbeam::utf8
