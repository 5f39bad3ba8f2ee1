// Personal data in logs and records is masked unless configured otherwise:
// 13812345678 -> 138****5678, zhang.wei@example.com -> z***@example.com.
#pragma once

#include <string>
#include <string_view>

namespace sunbeam {

std::string mask_phone(std::string_view phone);
std::string mask_email(std::string_view email);
// Masks by shape: an address with '@' as e-mail, anything else as a phone.
std::string mask_address(std::string_view address);

// Masks every phone number and e-mail address inside free text (gateway
// errors, SMTP replies, log lines), in the styles above, and leaves the rest
// byte for byte: "550 5.1.1 <zhang.wei@example.com>: rejected" ->
// "550 5.1.1 <z***@example.com>: rejected".
//  - phones: a mainland mobile, 11 digits 1[3-9]xxxxxxxxx, also behind 86 or
//    0086; an E.164 number, '+' and 7 to 15 digits. Only a whole digit run
//    counts, not one inside a word or hex id (a delivery id, "ab13812345678"),
//    a decimal number (1234567.89, 0.13812345678) or a longer run, so
//    times, amounts, offsets and codes like 600519.SH stay as they are. An
//    11-digit whole number that looks like a mobile (15000000000) is masked:
//    when in doubt, privacy wins.
//  - e-mail: local part of letters, digits and ._%+- ; a domain of labels
//    with at least one dot. A trailing sentence dot is not part of it.
// Text around may be any UTF-8 (Chinese right next to a number is fine).
std::string mask_text(std::string_view text);

}  // namespace sunbeam
