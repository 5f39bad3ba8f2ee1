// SMS as a handset counts it (SPEC §4). GSM 7-bit when every character is in
// the GSM 03.38 default alphabet or its extension table (an extension
// character such as € [ ] { } takes two septets): 160 septets in a single
// message, 153 per part once split. Otherwise UCS-2: 70 UTF-16 code units in
// a single message, 67 per part (Chinese is UCS-2; a character outside the
// Basic Multilingual Plane, such as an emoji, takes two units). A split never
// cuts a two-septet character or a surrogate pair in half, so a part can hold
// one unit less than its nominal size.
#pragma once

#include "config/config.h"

#include <string>
#include <string_view>

namespace sunbeam {

enum class SmsEncoding { gsm7, ucs2 };

constexpr std::string_view to_string(SmsEncoding e) { return e == SmsEncoding::gsm7 ? "gsm7" : "ucs2"; }

struct SmsParts {
  SmsEncoding encoding = SmsEncoding::gsm7;
  int units = 0;  // septets (GSM-7) or UTF-16 code units (UCS-2)
  int parts = 1;  // an empty text is still one (empty) message
  bool operator==(const SmsParts&) const = default;
};

SmsParts count_sms_parts(std::string_view utf8);

// The text as sent: for marketing types the opt-out suffix after the body,
// then the signature before (prefix) or after (suffix) it all; both count in
// the parts. The suffix is joined with a space unless Chinese text meets
// Chinese text (回T退订 needs none); the signature is taken literally.
std::string compose_sms(std::string_view body, const SmsConfig& sms, bool marketing);

}  // namespace sunbeam
