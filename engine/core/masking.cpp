#include "engine/core/masking.h"

#include <optional>
#include <vector>

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


// mask_text: a hand-written scanner rather than std::regex, which is slow
// (it backtracks and allocates; this runs on every log line) and cannot say
// "a whole digit run, not part of a word or a decimal" without look-behind.
// Two passes: e-mail addresses first (a local part may be a phone number,
// 13812345678@139.com, and must be masked as an address), then digit runs
// outside them.
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_local_char(char c) {
  return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_domain_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; }

struct Replacement {
  std::size_t begin;
  std::size_t end;
  std::string text;
};

// example.com, mail.example.com.cn: labels of letters, digits and '-', not
// empty, not starting or ending with '-'; at least two; the last with a letter.
bool is_domain(std::string_view d) {
  if (d.find('.') == std::string_view::npos) return false;
  bool letter_in_label = false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      const auto label = d.substr(label_start, i - label_start);
      if (label.empty() || label.front() == '-' || label.back() == '-') return false;
      if (i == d.size()) return letter_in_label;
      label_start = i + 1;
      letter_in_label = false;
    } else if (!is_digit(d[i]) && d[i] != '-') {
      letter_in_label = true;
    }
  }
  return false;
}

void find_emails(std::string_view text, std::vector<Replacement>& out) {
  std::size_t taken = 0;  // end of the last address found: addresses do not overlap
  for (auto at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    if (at < taken) continue;
    std::size_t begin = at;
    while (begin > taken && is_local_char(text[begin - 1])) --begin;
    while (begin < at && text[begin] == '.') ++begin;  // a local part starts with no dot
    std::size_t end = at + 1;
    while (end < text.size() && is_domain_char(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;  // "... to a@b.com."
    if (begin == at || !is_domain(text.substr(at + 1, end - at - 1))) continue;
    out.push_back({begin, end, mask_email(text.substr(begin, end - begin))});
    taken = end;
  }
}

bool is_mobile(std::string_view digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9';
}

// The masked form of the digit run [begin, end), or nullopt when it is not a phone number.
std::optional<Replacement> phone_at(std::string_view text, std::size_t begin, std::size_t end) {
  const auto digits = text.substr(begin, end - begin);
  auto char_at = [&](std::size_t i) { return i < text.size() ? text[i] : '\0'; };
  // Not followed by a word character or a decimal fraction ("13812345678.5");
  // a full stop, or a comma even before the next number of a list, is fine.
  const char next = char_at(end);
  if (is_ascii_alnum(next) || next == '_' || (next == '.' && is_digit(char_at(end + 1)))) return {};
  // Not preceded by a word character, nor by the point of a decimal number.
  const char prev = begin > 0 ? text[begin - 1] : '\0';
  if (is_ascii_alnum(prev) || prev == '_') return {};
  if (prev == '.' && begin > 1 && is_digit(text[begin - 2])) return {};
  if (prev == '+') {
    const char before_plus = begin > 1 ? text[begin - 2] : '\0';
    if (!is_ascii_alnum(before_plus) && before_plus != '_' && digits.size() >= 7 && digits.size() <= 15)
      return Replacement{begin - 1, end, mask_phone(text.substr(begin - 1, end - begin + 1))};
  }
  if (is_mobile(digits)) return Replacement{begin, end, mask_phone(digits)};
  for (std::string_view country : {"86", "0086"})
    if (digits.starts_with(country) && is_mobile(digits.substr(country.size())))
      return Replacement{begin, end, std::string(country) + mask_phone(digits.substr(country.size()))};
  return {};
}

void find_phones(std::string_view text, std::size_t from, std::size_t to, std::vector<Replacement>& out) {
  std::size_t i = from;
  while (i < to) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < to && is_digit(text[end])) ++end;
    // A run that starts right after another digit (across an address's edge) is part of a longer number.
    if (!(i > 0 && is_digit(text[i - 1])))
      if (auto r = phone_at(text, i, end)) out.push_back(std::move(*r));
    i = end;
  }
}

}  // namespace

std::string mask_text(std::string_view text) {
  std::vector<Replacement> emails;
  find_emails(text, emails);
  std::vector<Replacement> all;
  std::size_t gap = 0;
  for (auto& e : emails) {
    find_phones(text, gap, e.begin, all);
    gap = e.end;
    all.push_back(std::move(e));
  }
  find_phones(text, gap, text.size(), all);
  if (all.empty()) return std::string(text);

  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const auto& r : all) {
    out.append(text.substr(pos, r.begin - pos));
    out += r.text;
    pos = r.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace sunbeam
