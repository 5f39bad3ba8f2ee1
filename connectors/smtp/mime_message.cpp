#include "connectors/smtp/mime_message.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

namespace sunbeam {
namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::size_t max_header_line = 78;     // RFC 5322 §2.1.1 SHOULD
constexpr std::size_t max_encoded_line = 76;    // RFC 2047 §2: lines holding encoded-words
constexpr std::size_t max_encoded_word = 75;    // RFC 2047 §2
constexpr std::string_view word_open = "=?UTF-8?B?";
constexpr std::size_t word_overhead = 12;       // "=?UTF-8?B?" + "?="

bool is_alpha_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 5322 atext: what a dot-atom is made of.
bool is_atext(char c) { return is_alpha_digit(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos; }

bool is_dot_atom(std::string_view s, bool (*allowed)(char)) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}

// Delivery ids become a Message-ID's left part and a MIME boundary's tail, so
// they keep to characters both allow unquoted.
bool is_id_char(char c) { return is_alpha_digit(c) || c == '-' || c == '_' || c == '+'; }

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF) starting at s[i], or 0. Hand-written
// beside templates/utf8.h on purpose: connectors do not depend on templates,
// and splitting encoded-words needs byte lengths, not code points.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto in = [](unsigned b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  const unsigned b0 = at(0);
  if (b0 < 0x80) return 1;
  if (in(b0, 0xC2, 0xDF)) return in(at(1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) return out;
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// `text` (valid UTF-8) as encoded-words, one per output line: the first fits
// in `first_budget` characters, the others in 75. Words end on UTF-8
// sequence boundaries, so each decodes on its own (RFC 2047 §5 (3)).
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_budget) {
  std::vector<std::string> words;
  std::size_t budget = first_budget;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t max_bytes = (budget - word_overhead) / 4 * 3;
    std::size_t end = start;
    while (end < text.size()) {
      const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(text, end));
      if (end + len - start > max_bytes) break;
      end += len;
    }
    words.push_back(std::string(word_open) + base64(text.substr(start, end - start)) + "?=");
    start = end;
    budget = max_encoded_word;
  }
  return words;
}

// Words joined into folded lines: the first after `prefix`, each later line
// starting with the space that folding keeps (RFC 5322 §2.2.3).
std::string join_folded(std::string prefix, const std::vector<std::string>& lines) {
  std::string out = std::move(prefix);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += crlf;
    out += ' ';
    out += lines[i];
  }
  return out;
}

// Plain text folded at its spaces into lines of at most 78 characters, the
// first after `prefix_length` characters; empty when some word cannot fit.
std::vector<std::string> fold_plain(std::string_view text, std::size_t prefix_length) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t used = prefix_length + 1;  // the space after the colon
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    if (!line.empty() && used + line.size() + 1 + word.size() > max_header_line) {
      lines.push_back(std::move(line));
      line.clear();
      used = 1;  // the folding space
    }
    if (!line.empty()) line += ' ';
    line += word;
    if (used + line.size() > max_header_line) return {};
    start = end + 1;
  }
  lines.push_back(std::move(line));
  return lines;
}

// Printable ASCII that a reader takes literally: no encoded-word look-alike,
// and spaces only single and inside, so that folding and unfolding give it
// back unchanged (RFC 5322 parsers drop the space after the colon).
bool plain_header_text(std::string_view text) {
  for (char c : text)
    if (c < 0x20 || c > 0x7E) return false;
  return !text.empty() && text.front() != ' ' && text.back() != ' ' && text.find("  ") == std::string_view::npos &&
         text.find("=?") == std::string_view::npos && text.find("?=") == std::string_view::npos;
}

std::string trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

std::string_view trim_ascii_space(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Quoted-printable for one line of text (no line breaks in it).
void qp_line(std::string_view line, std::string& out) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::size_t column = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    // Literal: printable ASCII but '=', and space or tab unless they end the
    // line (trailing white space may be stripped in transit, RFC 2045 rule 3).
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    const std::size_t width = literal ? 1 : 3;
    // A soft break ("=" at the end) takes one column, so only the line's last
    // token may reach column 76.
    if (column + width > (last ? 76u : 75u)) {
      out += "=\r\n";
      column = 0;
    }
    if (literal) {
      out += static_cast<char>(c);
    } else {
      out += '=';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
    column += width;
  }
}

// Bytes quoted-printable would take against base64's 4/3, to pick the
// smaller: QP for mostly-ASCII text (readable in the raw mail), base64 for
// Chinese, where QP would triple the size.
bool prefer_quoted_printable(std::string_view text) {
  std::size_t qp = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    qp += (c >= 32 && c <= 126 && c != '=') || c == '\t' || c == '\r' || c == '\n' ? 1 : 3;
  }
  return qp <= (text.size() + 2) / 3 * 4;
}

// Text with its line breaks (CRLF, CR or LF) as CRLF: MIME's canonical form,
// which base64 must encode (RFC 2045 §6.8).
std::string canonical_line_breaks(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += crlf;
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += crlf;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One body part's headers and encoded content (without the CRLF that ends
// the content: the boundary delimiter, or the end of DATA, brings it).
std::string text_part(std::string_view subtype, std::string_view text) {
  std::string out = "Content-Type: text/";
  out += subtype;
  out += "; charset=UTF-8\r\n";
  if (prefer_quoted_printable(text)) {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += quoted_printable(text);
  } else {
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    std::string lines = base64_lines(canonical_line_breaks(text));
    if (lines.ends_with(crlf)) lines.resize(lines.size() - crlf.size());
    out += lines;
  }
  return out;
}

}  // namespace

std::string check_recipient(std::string_view to) {
  if (to.empty()) return "the recipient address is empty";
  for (char ch : to) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return "the recipient address contains a control character (CR, LF, NUL, ...)";
    if (c >= 0x80) return "the recipient address is not ASCII (international addresses need SMTPUTF8, which is not supported)";
    if (c == ' ') return "the recipient address contains a space";
    if (c == ',' || c == ';') return "the recipient address lists more than one address: one delivery has one recipient";
    if (std::string_view("<>\"()[]\\:").find(ch) != std::string_view::npos)
      return std::string("the recipient address contains '") + ch + "': give a bare address such as name@example.com";
  }
  if (to.size() > 254) return "the recipient address is longer than 254 characters";
  const std::size_t at = to.find('@');
  if (at == std::string_view::npos || to.find('@', at + 1) != std::string_view::npos)
    return "the recipient address needs exactly one '@'";
  const std::string_view local = to.substr(0, at), domain = to.substr(at + 1);
  if (local.size() > 64 || !is_dot_atom(local, &is_atext))
    return "the recipient address's local part (before '@') is not a plain dot-atom of at most 64 characters";
  if (!is_host_name(domain)) return "the recipient address's domain is not a host name";
  return {};
}

bool is_host_name(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!is_alpha_digit(c) && c != '-') return false;
    if (end == domain.size()) return true;
    start = end + 1;
  }
}

Result<Mailbox> parse_mailbox(std::string_view text) {
  text = trim_ascii_space(text);
  Mailbox mailbox;
  std::string_view address = text;
  if (!text.empty() && text.back() == '>') {
    const std::size_t open = text.rfind('<');
    if (open == std::string_view::npos)
      return make_error("mailbox", "\"" + std::string(text) + "\" has a '>' without its '<'");
    address = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = trim_ascii_space(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        mailbox.display_name += name[i];
      }
    } else {
      mailbox.display_name = std::string(name);
    }
  }
  if (const std::string why = check_recipient(address); !why.empty()) {
    // check_recipient speaks of recipients; here it is the sender.
    std::string reason = why;
    if (reason.starts_with("the recipient address")) reason.replace(0, 21, "the address");
    return make_error("mailbox", "\"" + std::string(text) + "\": " + reason);
  }
  mailbox.address = std::string(address);
  return mailbox;
}

std::string neutralise_header_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_controls = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      if (!in_controls) out += ' ';
      in_controls = true;
      ++i;
      continue;
    }
    in_controls = false;
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string unstructured_header(std::string_view name, std::string_view text) {
  std::string prefix = std::string(name) + ":";
  if (text.empty()) return prefix;
  if (plain_header_text(text)) {
    if (auto lines = fold_plain(text, prefix.size()); !lines.empty()) return join_folded(std::move(prefix), lines);
  }
  // +1: the space after the colon.
  return join_folded(prefix, encoded_words(text, max_encoded_line - prefix.size() - 1));
}

std::string mailbox_header_value(const Mailbox& mailbox, std::size_t prefix_length) {
  const std::string name = trim_spaces(neutralise_header_text(mailbox.display_name));
  const std::string angle = "<" + mailbox.address + ">";
  if (name.empty()) return mailbox.address;

  bool atoms = plain_header_text(name);
  bool printable = true;
  for (char c : name) {
    if (c < 0x20 || c > 0x7E) printable = atoms = false;
    else if (c != ' ' && !is_atext(c)) atoms = false;
  }
  std::string phrase;
  if (atoms) {
    phrase = name;
  } else if (printable && name.find("=?") == std::string::npos) {
    phrase = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += '"';
  }
  if (!phrase.empty() && prefix_length + 1 + phrase.size() <= max_header_line) {
    if (prefix_length + 1 + phrase.size() + 1 + angle.size() <= max_header_line) return phrase + " " + angle;
    return phrase + "\r\n " + angle;
  }
  // Encoded-words: UTF-8 names, and ASCII ones too long for one line.
  const auto words = encoded_words(name, max_encoded_line - prefix_length - 1);
  std::string out = words.front();
  std::size_t last_line = prefix_length + 1 + words.front().size();
  for (std::size_t i = 1; i < words.size(); ++i) {
    out += "\r\n " + words[i];
    last_line = 1 + words[i].size();
  }
  out += last_line + 1 + angle.size() <= max_header_line ? " " : "\r\n ";
  return out + angle;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find_first_of("\r\n", start);
    qp_line(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start), out);
    if (end == std::string_view::npos) break;
    out += crlf;
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
  return out;
}

std::string base64_lines(std::string_view bytes) {
  const std::string encoded = base64(bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += crlf;
  }
  return out;
}

std::string rfc5322_date(SystemTime t) {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  // Day and month names from tables, not strftime: they must be English
  // whatever the process locale.
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[static_cast<std::size_t>(tm.tm_wday)],
                tm.tm_mday, months[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

Result<ComposedMail> compose_mail(const OutboundMessage& msg, const MailSettings& settings, SystemTime date) {
  if (std::string why = check_recipient(msg.to); !why.empty()) return make_error("recipient", std::move(why), "to");
  if (msg.delivery_id.empty() || msg.delivery_id.size() > 64 || !is_dot_atom(msg.delivery_id, &is_id_char))
    return make_error("message", "delivery id \"" + neutralise_header_text(msg.delivery_id).substr(0, 80) +
                                     "\" cannot be a Message-ID (letters, digits, '-', '_', '+', inner dots; at most 64)",
                      "delivery_id");
  if (!check_recipient(settings.from.address).empty())
    return make_error("settings", "the From address \"" + settings.from.address + "\" is not a plain address", "from");
  const std::string domain = settings.message_id_domain.empty()
                                 ? settings.from.address.substr(settings.from.address.find('@') + 1)
                                 : settings.message_id_domain;
  if (!is_host_name(domain))
    return make_error("settings", "message_id_domain \"" + domain + "\" is not a host name", "message_id_domain");

  ComposedMail mail;
  mail.mail_from = settings.from.address;
  mail.rcpt_to = msg.to;
  mail.message_id = "<" + msg.delivery_id + "@" + domain + ">";

  std::string& d = mail.data;
  d.reserve(1024 + msg.body.size() * 4 / 3 + msg.html.size() * 4 / 3);
  d += "Date: " + rfc5322_date(date) + "\r\n";
  d += "From: " + mailbox_header_value(settings.from, 6) + "\r\n";
  d += "To: " + msg.to + "\r\n";
  d += unstructured_header("Subject", neutralise_header_text(msg.subject)) + "\r\n";
  d += "Message-ID: " + mail.message_id + "\r\n";
  d += "MIME-Version: 1.0\r\n";
  if (msg.html.empty()) {
    d += text_part("plain", msg.body);
    d += crlf;
    return mail;
  }
  // "=_" cannot occur in quoted-printable or base64 output, so no part's
  // content can ever contain this boundary (RFC 2045 §6.7, RFC 2046 §5.1.1).
  // At most 70 characters (RFC 2046 §5.1.1): the id's first 60 suffice.
  const std::string boundary = "=_sunbeam_" + msg.delivery_id.substr(0, 60);
  d += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
  d += "\r\nThis is a MIME message: a text and an HTML version of the same text.\r\n";
  d += "\r\n--" + boundary + "\r\n";
  d += text_part("plain", msg.body);
  d += "\r\n--" + boundary + "\r\n";
  d += text_part("html", msg.html);
  d += "\r\n--" + boundary + "--\r\n";
  return mail;
}

}  // namespace sunbeam
