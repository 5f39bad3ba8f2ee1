#include "templates/sms_parts.h"

#include <algorithm>
#include <array>

namespace sunbeam {
namespace {

// The GSM 03.38 default alphabet and its extension table, as Unicode code
// points (hand-written: no Debian library counts SMS parts).
constexpr std::array<char32_t, 128> gsm_basic{
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', 0x1B, U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};
constexpr std::array<char32_t, 10> gsm_extension{U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

// Decodes UTF-8; an invalid byte counts as U+FFFD (it forces UCS-2, as a
// gateway would have to replace it with something outside GSM-7).
template <class F>
void for_each_code_point(std::string_view s, F&& f) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + std::size_t(len) > s.size()) {
      f(char32_t(0xFFFD));
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b : b & (0x3F >> (len - 1));
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + std::size_t(k)]);
      if ((c & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    f(ok ? cp : char32_t(0xFFFD));
    i += ok ? std::size_t(len) : 1;
  }
}

int parts_for(int units, int single, int per_part) {
  if (units <= single) return 1;
  return (units + per_part - 1) / per_part;
}

}  // namespace

SmsParts count_sms_parts(std::string_view utf8) {
  int septets = 0, utf16 = 0;
  bool gsm = true;
  for_each_code_point(utf8, [&](char32_t cp) {
    utf16 += cp > 0xFFFF ? 2 : 1;
    if (!gsm) return;
    if (std::find(gsm_basic.begin(), gsm_basic.end(), cp) != gsm_basic.end() && cp != 0x1B) septets += 1;
    else if (std::find(gsm_extension.begin(), gsm_extension.end(), cp) != gsm_extension.end()) septets += 2;
    else gsm = false;
  });
  if (gsm) return {SmsEncoding::gsm7, septets, parts_for(septets, 160, 153)};
  return {SmsEncoding::ucs2, utf16, parts_for(utf16, 70, 67)};
}

std::string compose_sms(std::string_view body, const SmsConfig& sms, bool marketing) {
  std::string text(body);
  if (marketing && !sms.opt_out_suffix.empty()) {
    // A space between Latin text and the suffix; Chinese text runs on.
    if (!text.empty() && static_cast<unsigned char>(text.back()) < 0x80 &&
        static_cast<unsigned char>(sms.opt_out_suffix.front()) < 0x80)
      text += ' ';
    text += sms.opt_out_suffix;
  }
  if (sms.signature.empty()) return text;
  return sms.signature_position == SignaturePosition::prefix ? sms.signature + text : text + sms.signature;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

}  // namespace sunbeam
