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

}  // namespace sunbeam
