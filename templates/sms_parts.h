// SMS as a handset counts it (SPEC §4): GSM 7-bit when every character is in
// the GSM default alphabet (extension characters such as € [ ] { } take two
// septets), 160 septets in one message or 153 per part when split; otherwise
// UCS-2, 70 UTF-16 units in one message or 67 per part (Chinese is UCS-2;
// a character outside the BMP, such as an emoji, takes two units).
#pragma once

#include "config/config.h"

#include <string>
#include <string_view>

namespace sunbeam {

enum class SmsEncoding { gsm7, ucs2 };

struct SmsParts {
  SmsEncoding encoding = SmsEncoding::gsm7;
  int units = 0;  // septets (GSM-7) or UTF-16 code units (UCS-2)
  int parts = 1;
};

SmsParts count_sms_parts(std::string_view utf8);

// The text as sent: the signature before or after the body, and for
// marketing types the opt-out suffix after it (both count in the parts).
std::string compose_sms(std::string_view body, const SmsConfig& sms, bool marketing);

// SMS bodies are written over several template lines; a handset shows one
// paragraph: runs of whitespace become one space, ends trimmed.
std::string collapse_whitespace(std::string_view text);

}  // namespace sunbeam
