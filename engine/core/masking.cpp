#include "engine/core/masking.h"

namespace sunbeam {

// Keeps the first three and last four digits, as Chinese brokers print them
// (138****5678); for a +86 number the country code is kept too.
std::string mask_phone(std::string_view phone) {
  std::string_view prefix;
  if (phone.starts_with("+86")) {
    prefix = phone.substr(0, 3);
    phone.remove_prefix(3);
  } else if (phone.starts_with("+")) {
    prefix = phone.substr(0, 1);
    phone.remove_prefix(1);
  }
  if (phone.size() <= 7) return std::string(prefix) + std::string(phone.size(), '*');
  return std::string(prefix) + std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
         std::string(phone.substr(phone.size() - 4));
}

std::string mask_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

std::string mask_address(std::string_view address) {
  return address.find('@') != std::string_view::npos ? mask_email(address) : mask_phone(address);
}

}  // namespace sunbeam
