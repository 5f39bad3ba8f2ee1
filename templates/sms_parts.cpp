#include "templates/sms_parts.h"

#include "templates/utf8.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sunbeam {
namespace {

// The GSM 03.38 default alphabet (escape 0x1B excluded: it is not a
// character) and its extension table, as Unicode code points. Hand-written:
// no Debian library counts SMS parts.
constexpr std::array<char32_t, 127> gsm_default_alphabet{
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};
static_assert(std::find(gsm_default_alphabet.begin(), gsm_default_alphabet.end(), U'\0') == gsm_default_alphabet.end(),
              "the table is short of an entry (zero-filled)");
constexpr std::array<char32_t, 10> gsm_extension_table{U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

// Septets of each code point below U+0400 (Latin-1 and Greek: every GSM-7
// character but €), built from the two tables at compile time, so a
// character costs one look-up rather than a search of 137 entries (that
// search made counting an English SMS several times slower than a Chinese one).
constexpr std::size_t septet_table_size = 0x400;
constexpr auto septet_table = [] {
  std::array<std::uint8_t, septet_table_size> t{};
  for (char32_t cp : gsm_default_alphabet)
    if (cp < septet_table_size) t[cp] = 1;
  for (char32_t cp : gsm_extension_table)
    if (cp < septet_table_size) t[cp] = 2;
  return t;
}();
static_assert(std::count(gsm_default_alphabet.begin(), gsm_default_alphabet.end(), U'€') == 0 &&
                  std::count_if(gsm_default_alphabet.begin(), gsm_default_alphabet.end(),
                                [](char32_t cp) { return cp >= septet_table_size; }) == 0 &&
                  std::count_if(gsm_extension_table.begin(), gsm_extension_table.end(),
                                [](char32_t cp) { return cp >= septet_table_size; }) == 1,
              "only € lies outside the look-up table");

// Septets of one character in GSM-7, or 0 when GSM-7 cannot carry it.
int gsm7_septets(char32_t cp) {
  if (cp < septet_table_size) return septet_table[cp];
  return cp == U'€' ? 2 : 0;
}

int utf16_units(char32_t cp) { return cp > 0xFFFF ? 2 : 1; }

// How many parts characters (each `units` wide, added one at a time) need:
// one message when they fit `single`, else parts of `per_part`, a character
// never straddling two parts. Counted as the text is read, without keeping
// each character's width.
class PartCounter {
 public:
  PartCounter(int single, int per_part) : single_(single), per_part_(per_part) {}
  void add(int units) {
    total_ += units;
    if (used_ + units > per_part_) {
      ++split_parts_;
      used_ = 0;
    }
    used_ += units;
  }
  int total() const { return total_; }
  int parts() const { return total_ <= single_ ? 1 : split_parts_; }

 private:
  int single_, per_part_;
  int total_ = 0, split_parts_ = 1, used_ = 0;
};

// Joining the opt-out suffix: Chinese runs on, anything else gets a space.
bool needs_space_between(std::string_view left, std::string_view right) {
  if (left.empty() || right.empty()) return false;
  const char32_t last = utf8::code_point_before(left, left.size());
  const char32_t first = utf8::code_point_at(right, 0);
  if (last == U' ' || first == U' ') return false;
  return !(utf8::is_wide_cjk(last) && utf8::is_wide_cjk(first));
}

}  // namespace

SmsParts count_sms_parts(std::string_view utf8) {
  PartCounter septets(160, 153), code_units(70, 67);
  bool fits_gsm7 = true;
  utf8::for_each_code_point(utf8, [&](char32_t cp) {
    code_units.add(utf16_units(cp));
    if (!fits_gsm7) return;
    const int s = gsm7_septets(cp);
    fits_gsm7 = s > 0;
    septets.add(s);
  });
  if (fits_gsm7) return {SmsEncoding::gsm7, septets.total(), septets.parts()};
  return {SmsEncoding::ucs2, code_units.total(), code_units.parts()};
}

std::string compose_sms(std::string_view body, const SmsConfig& sms, bool marketing) {
  std::string text(body);
  if (marketing && !sms.opt_out_suffix.empty()) {
    if (needs_space_between(text, sms.opt_out_suffix)) text += ' ';
    text += sms.opt_out_suffix;
  }
  if (sms.signature.empty()) return text;
  return sms.signature_position == SignaturePosition::prefix ? sms.signature + text : text + sms.signature;
}

}  // namespace sunbeam
