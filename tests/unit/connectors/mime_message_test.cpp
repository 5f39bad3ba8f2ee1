// The mail the smtp connector sends, checked as bytes: one golden mail, and
// properties a mail client relies on (RFC 5322 line limits, RFC 2047
// encoded-words that decode back to the subject, quoted-printable and base64
// bodies that decode back to the text), plus the header-injection attempts.
// The decoders here are the test's own (base64 through OpenSSL's decoder), so
// they check the encoder rather than mirror it.
#include "connectors/smtp/mime_message.h"

#include "tests/support/doctest_result.h"
#include "tests/support/source_dir.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

// 2026-11-25T00:45:00Z, a Wednesday.
const SystemTime when = SystemTime(std::chrono::seconds(1795567500));

MailSettings settings() { return MailSettings{Mailbox{"阳光证券 研究所", "research@sunbeam.example"}, ""}; }

OutboundMessage mail_message(std::string to, std::string subject, std::string body, std::string html) {
  OutboundMessage m;
  m.delivery_id = "3f2a9c0d41b7e6a85c19d0e2f4b6a813";
  m.event_id = "e1";
  m.account = "A1";
  m.channel = Channel::email;
  m.to = std::move(to);
  m.subject = std::move(subject);
  m.body = std::move(body);
  m.html = std::move(html);
  return m;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + sep.size();
  }
}

struct Parsed {
  std::vector<std::string> header_lines;  // as on the wire, folded
  std::string body;
};

Parsed parse(std::string_view data) {
  const std::size_t blank = data.find("\r\n\r\n");
  REQUIRE(blank != std::string_view::npos);
  return Parsed{split(data.substr(0, blank), "\r\n"), std::string(data.substr(blank + 4))};
}

// The unfolded value of header `name` (RFC 5322 §2.2.3: remove the CRLFs).
std::string header(const std::vector<std::string>& lines, std::string_view name) {
  const std::string prefix = std::string(name) + ":";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with(prefix)) continue;
    std::string value = lines[i].substr(prefix.size());
    for (std::size_t k = i + 1; k < lines.size() && (lines[k][0] == ' ' || lines[k][0] == '\t'); ++k) value += lines[k];
    return value.starts_with(" ") ? value.substr(1) : value;
  }
  return "<absent>";
}

std::string b64_decode(std::string_view text) {
  std::string clean;
  for (char c : text)
    if (c != '\r' && c != '\n') clean += c;
  REQUIRE(clean.size() % 4 == 0);
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  REQUIRE(n >= 0);
  std::size_t padding = 0;
  if (!clean.empty() && clean.back() == '=') ++padding;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string qp_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else {
      REQUIRE(i + 2 < text.size());
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

// Decodes an unstructured header value made of encoded-words and/or plain
// text as RFC 2047 §6.2 says: white space between adjacent encoded-words is
// dropped. Also checks each word decodes to whole UTF-8 characters.
std::string decode_header(const std::string& value) {
  std::string out;
  std::size_t i = 0;
  bool previous_was_word = false;
  std::string pending_space;
  while (i < value.size()) {
    if (value[i] == ' ') {
      pending_space += ' ';
      ++i;
      continue;
    }
    if (value.compare(i, 2, "=?") == 0) {
      const std::size_t end = value.find("?=", i + 2);
      REQUIRE(end != std::string::npos);
      const std::string word = value.substr(i, end + 2 - i);
      CHECK(word.size() <= 75);
      const auto fields = split(word.substr(2, word.size() - 4), "?");
      REQUIRE(fields.size() == 3);
      CHECK(fields[0] == "UTF-8");
      REQUIRE(fields[1] == "B");
      const std::string decoded = b64_decode(fields[2]);
      CHECK_MESSAGE(neutralise_header_text(decoded) == decoded, "an encoded-word holds a split UTF-8 sequence");
      if (!previous_was_word) out += pending_space;
      out += decoded;
      pending_space.clear();
      previous_was_word = true;
      i = end + 2;
    } else {
      out += pending_space;
      pending_space.clear();
      const std::size_t end = value.find(' ', i);
      out += value.substr(i, end == std::string::npos ? std::string::npos : end - i);
      previous_was_word = false;
      i = end == std::string::npos ? value.size() : end;
    }
  }
  return out + pending_space;
}

void check_line_lengths(std::string_view data, std::size_t header_limit, std::size_t body_limit) {
  const auto blank = data.find("\r\n\r\n");
  std::size_t line_no = 0;
  for (const auto& line : split(data, "\r\n")) {
    ++line_no;
    const std::size_t limit = data.find(line) < blank ? header_limit : body_limit;
    CHECK_MESSAGE(line.size() <= limit, "line " << line_no << " has " << line.size() << " characters: " << line);
    CHECK_MESSAGE(line.find_first_of(std::string("\r\n\0", 3)) == std::string::npos, "line " << line_no);
  }
}

struct Part {
  std::vector<std::string> headers;
  std::string content;  // decoded
};

std::vector<Part> parts_of(const ComposedMail& mail) {
  const Parsed p = parse(mail.data);
  std::string type = header(p.header_lines, "Content-Type");
  const std::size_t b = type.find("boundary=\"");
  REQUIRE(b != std::string::npos);
  const std::string boundary = type.substr(b + 10, type.find('"', b + 10) - b - 10);
  CHECK(boundary.size() <= 70);
  const auto sections = split(p.body, "\r\n--" + boundary);
  REQUIRE(sections.size() == 4);  // preamble, text, html, "--" epilogue
  CHECK(sections.back() == "--\r\n");
  std::vector<Part> parts;
  for (std::size_t i = 1; i + 1 < sections.size(); ++i) {
    REQUIRE(sections[i].starts_with("\r\n"));
    const Parsed section = parse(sections[i].substr(2));
    const std::string cte = header(section.header_lines, "Content-Transfer-Encoding");
    std::string content = cte == "base64" ? b64_decode(section.body) : qp_decode(section.body);
    CHECK((cte == "base64" || cte == "quoted-printable"));
    parts.push_back(Part{section.header_lines, std::move(content)});
  }
  return parts;
}

std::string crlf_lines(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("golden: a Chinese notice as multipart/alternative") {
  const auto msg = mail_message("zhang.wei@example.com", "【阳光证券】贵州茅台(600519.SH)评级调整：由“增持”上调至“买入”，目标价 2,150 元",
                                "尊敬的张伟：\n\n贵州茅台评级上调至“买入”。\n详情请登录 https://sunbeam.example/r/123\n",
                                "<p>尊敬的张伟：</p><p>贵州茅台评级上调至<b>“买入”</b>。</p>");
  auto mail = compose_mail(msg, settings(), when);
  REQUIRE(mail);
  const fs::path golden = test::source_dir() / "tests/unit/connectors/golden/notice_zh.eml";
  if (std::getenv("SUNBEAM_UPDATE_GOLDEN")) std::ofstream(golden, std::ios::binary) << mail->data;
  CHECK(mail->data == read_file(golden));
  CHECK(mail->mail_from == "research@sunbeam.example");
  CHECK(mail->rcpt_to == "zhang.wei@example.com");
  CHECK(mail->message_id == "<3f2a9c0d41b7e6a85c19d0e2f4b6a813@sunbeam.example>");
}

TEST_CASE("structure: headers, parts, charsets and encodings") {
  const std::string body = "Dear customer,\n\nKweichow Moutai is now rated BUY.\nA line with = and trailing space \n";
  const std::string html = "<p>Dear customer,</p>\n<p>Kweichow Moutai is now rated <b>BUY</b>.</p>";
  auto mail = compose_mail(mail_message("a.b@example.com", "Rating change: 600519.SH", body, html), settings(), when);
  REQUIRE(mail);
  const Parsed p = parse(mail->data);
  // Exactly these header fields, in this order, each once.
  std::vector<std::string> names;
  for (const auto& line : p.header_lines)
    if (line[0] != ' ') names.push_back(line.substr(0, line.find(':')));
  CHECK(names == std::vector<std::string>{"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"});
  CHECK(header(p.header_lines, "Date") == "Wed, 25 Nov 2026 00:45:00 +0000");
  CHECK(header(p.header_lines, "To") == "a.b@example.com");
  CHECK(header(p.header_lines, "Subject") == "Rating change: 600519.SH");  // plain ASCII stays plain
  CHECK(header(p.header_lines, "Message-ID") == "<3f2a9c0d41b7e6a85c19d0e2f4b6a813@sunbeam.example>");
  CHECK(header(p.header_lines, "MIME-Version") == "1.0");
  CHECK(header(p.header_lines, "Content-Type").starts_with("multipart/alternative; boundary=\"=_sunbeam_"));
  const std::string from = header(p.header_lines, "From");
  CHECK(from.ends_with(" <research@sunbeam.example>"));
  CHECK(decode_header(from.substr(0, from.rfind(' '))) == "阳光证券 研究所");

  const auto parts = parts_of(*mail);
  REQUIRE(parts.size() == 2);
  CHECK(header(parts[0].headers, "Content-Type") == "text/plain; charset=UTF-8");
  CHECK(header(parts[0].headers, "Content-Transfer-Encoding") == "quoted-printable");  // mostly ASCII
  CHECK(parts[0].content == crlf_lines(body));
  CHECK(header(parts[1].headers, "Content-Type") == "text/html; charset=UTF-8");
  CHECK(parts[1].content == crlf_lines(html));
  check_line_lengths(mail->data, 78, 76);
  CHECK(mail->data.ends_with("\r\n"));
}

TEST_CASE("a message without HTML is a single text/plain part") {
  auto mail = compose_mail(mail_message("a@example.com", "Hi", "只有文字。", ""), settings(), when);
  REQUIRE(mail);
  const Parsed p = parse(mail->data);
  CHECK(header(p.header_lines, "Content-Type") == "text/plain; charset=UTF-8");
  CHECK(header(p.header_lines, "Content-Transfer-Encoding") == "base64");  // Chinese: base64 is the smaller
  CHECK(b64_decode(p.body) == "只有文字。");
}

TEST_CASE("RFC 2047: Chinese subjects round-trip, words <= 75, lines <= 76, no split characters") {
  const std::vector<std::string> subjects{
      "新股申购提醒",
      "【阳光证券】您持有的宁德时代(300750.SZ)发布公告：2026年第三季度报告，营业收入同比增长12.5%，净利润同比增长8.3%，请及时查阅",
      "Mixed 中文 and English, with emoji 📈📉 and full-width punctuation：！？",
      std::string(200, 'x'),                    // one ASCII word too long to fold
      "  leading and trailing spaces  ",        // would be lost if written plain
      "looks like =?UTF-8?B?Zm9v?= a word",     // would be decoded if written plain
  };
  for (const auto& subject : subjects) {
    CAPTURE(subject);
    auto mail = compose_mail(mail_message("a@example.com", subject, "x", "<p>x</p>"), settings(), when);
    REQUIRE(mail);
    const Parsed p = parse(mail->data);
    const std::string value = header(p.header_lines, "Subject");
    CHECK(value.starts_with("=?UTF-8?B?"));
    CHECK(decode_header(value) == subject);
    // Each line of the Subject field is at most 76 characters.
    bool in_subject = false;
    for (const auto& line : p.header_lines) {
      if (line[0] != ' ') in_subject = line.starts_with("Subject:");
      if (in_subject) CHECK(line.size() <= 76);
    }
  }
}

TEST_CASE("encoded-words fill up to the limits: the first line after \"Subject: \" too") {
  const std::string subject = std::string(300, 'a') + "中";
  const std::string h = unstructured_header("Subject", subject);
  const auto lines = split(h, "\r\n");
  REQUIRE(lines.size() > 3);
  CHECK(lines[0].size() <= 76);
  CHECK(lines[0].size() >= 70);  // 39 bytes -> 52 base64 characters + 12 + "Subject: "
  for (std::size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i].starts_with(" =?UTF-8?B?"));
    CHECK(lines[i].size() <= 76);
  }
  std::string unfolded;
  for (const auto& l : lines) unfolded += l;
  CHECK(decode_header(unfolded.substr(9)) == subject);
}

TEST_CASE("plain ASCII subjects fold at spaces into lines of at most 78") {
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += (i ? " " : "") + std::string("word") + std::to_string(i);
  const std::string h = unstructured_header("Subject", subject);
  const auto lines = split(h, "\r\n");
  CHECK(lines.size() > 1);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].size() <= 78);
    if (i > 0) CHECK(lines[i].starts_with(" "));
    CHECK(lines[i].find_first_not_of(' ') != std::string::npos);  // no line of white space only
  }
  std::string unfolded;
  for (const auto& l : lines) unfolded += l;
  CHECK(unfolded == "Subject: " + subject);
  CHECK(h.find("=?") == std::string::npos);
  CHECK(unstructured_header("Subject", "") == "Subject:");
}

TEST_CASE("quoted-printable: long lines get soft breaks at 76, and decode back") {
  std::string long_line;
  for (int i = 0; i < 400; ++i) long_line += "abc=def " + std::to_string(i) + (i % 7 ? " " : "\t");
  long_line += "end with space ";
  const std::string text = long_line + "\r\nsecond\rthird\nfourth\n.\n";
  const std::string qp = quoted_printable(text);
  for (const auto& line : split(qp, "\r\n")) {
    CHECK(line.size() <= 76);
    CHECK((line.empty() || (line.back() != ' ' && line.back() != '\t')));
  }
  CHECK(qp_decode(qp) == long_line + "\r\nsecond\r\nthird\r\nfourth\r\n.\r\n");
  CHECK(quoted_printable("é=") == "=C3=A9=3D");
  // A token never straddles a soft break: 74 x's then "é" (6 characters).
  const std::string q = quoted_printable(std::string(74, 'x') + "é");
  CHECK(q == std::string(74, 'x') + "=\r\n=C3=A9");
}

TEST_CASE("a long HTML line in Chinese and one in ASCII both stay under 76 characters a line") {
  std::string zh_html = "<p>";
  for (int i = 0; i < 500; ++i) zh_html += "沪深300指数";
  zh_html += "</p>";
  std::string en_html = "<table>";
  for (int i = 0; i < 300; ++i) en_html += "<td class=\"n\">" + std::to_string(i) + "</td>";
  en_html += "</table>";
  for (const auto* html : {&zh_html, &en_html}) {
    auto mail = compose_mail(mail_message("a@example.com", "x", "text", *html), settings(), when);
    REQUIRE(mail);
    check_line_lengths(mail->data, 78, 76);
    const auto parts = parts_of(*mail);
    REQUIRE(parts.size() == 2);
    CHECK(parts[1].content == *html);
  }
}

TEST_CASE("header injection through the subject: CR LF, LF, NUL become spaces, no header is added") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"Hello\r\nBcc: x@evil.example", "Hello Bcc: x@evil.example"},
      {"Hello\nBcc: x@evil.example\n\nbody", "Hello Bcc: x@evil.example body"},
      {std::string("Hi\0Bcc: x@evil.example", 22), "Hi Bcc: x@evil.example"},
      {"你好\r\nBcc: x@evil.example", "你好 Bcc: x@evil.example"},
      {"tab\there", "tab here"},
      {"bad \xC3\x28 utf8", "bad \xEF\xBF\xBD( utf8"},
  };
  for (const auto& [subject, shown] : cases) {
    CAPTURE(shown);
    auto mail = compose_mail(mail_message("a@example.com", subject, "x", "<p>x</p>"), settings(), when);
    REQUIRE(mail);
    const Parsed p = parse(mail->data);
    for (const auto& line : p.header_lines) CHECK_FALSE(line.starts_with("Bcc"));
    CHECK(mail->data.find('\0') == std::string::npos);
    CHECK(decode_header(header(p.header_lines, "Subject")) == shown);
    check_line_lengths(mail->data, 78, 76);
  }
}

TEST_CASE("header injection through the display name") {
  MailSettings s{Mailbox{"Evil\r\nBcc: x@evil.example", "research@sunbeam.example"}, ""};
  auto mail = compose_mail(mail_message("a@example.com", "x", "x", ""), s, when);
  REQUIRE(mail);
  const Parsed p = parse(mail->data);
  for (const auto& line : p.header_lines) CHECK_FALSE(line.starts_with("Bcc"));
  CHECK(header(p.header_lines, "From") == "\"Evil Bcc: x@evil.example\" <research@sunbeam.example>");
}

TEST_CASE("the recipient must be exactly one plain address") {
  for (const std::string& bad : std::vector<std::string>{"a@x.com\r\nRCPT TO:<b@y.com>", "a@x.com, b@y.com", "a@x.com;b@y.com", "<a@x.com>",
                          "A <a@x.com>", "a@x.com\nBcc: b@y.com", "Bcc: b@y.com", "a@x.com b@y.com", "",
                          "a@x.com\r\n", "\"a b\"@x.com", "a@@x.com", "a@b@x.com", "ax.com", ".a@x.com",
                          "a..b@x.com", "a@-x.com", "a@x..com", "a@[127.0.0.1]", "用户@例子.公司", "a@x.com:25",
                          std::string(65, 'a') + "@x.com", "a@" + std::string(250, 'x') + ".com"}) {
    CAPTURE(bad);
    CHECK_FALSE(check_recipient(bad).empty());
    auto mail = compose_mail(mail_message(bad, "s", "b", ""), settings(), when);
    REQUIRE_FALSE(mail);
    CHECK(mail.error().code == "recipient");
  }
  const std::string nul_inside("a@x.com\0b@y.com", 15);
  CHECK_FALSE(check_recipient(nul_inside).empty());
  CHECK(check_recipient("a@x.com, b@y.com").find("more than one") != std::string::npos);
  CHECK(check_recipient("a@x.com\r\nRCPT TO:<b@y.com>").find("control character") != std::string::npos);

  for (const char* good : {"zhang.wei+news@example.com", "o'brien@example.co.uk", "a@localhost", "x_y-z@mail-1.example.cn"}) {
    CAPTURE(good);
    CHECK(check_recipient(good).empty());
  }
}

TEST_CASE("the delivery id must be able to be a Message-ID") {
  auto m = mail_message("a@example.com", "s", "b", "");
  m.delivery_id = "abc>\r\nBcc: x@evil";
  auto mail = compose_mail(m, settings(), when);
  REQUIRE_FALSE(mail);
  CHECK(mail.error().code == "message");
}

TEST_CASE("Message-ID uses message_id_domain when given") {
  MailSettings s = settings();
  s.message_id_domain = "mail.sunbeam.example";
  auto mail = compose_mail(mail_message("a@example.com", "s", "b", ""), s, when);
  REQUIRE(mail);
  CHECK(mail->message_id == "<3f2a9c0d41b7e6a85c19d0e2f4b6a813@mail.sunbeam.example>");
  CHECK(mail->data.find("\r\nMessage-ID: <3f2a9c0d41b7e6a85c19d0e2f4b6a813@mail.sunbeam.example>\r\n") != std::string::npos);
}

TEST_CASE("parse_mailbox reads the forms of the `from` option") {
  auto plain = parse_mailbox("noreply@sunbeam.example");
  REQUIRE(plain);
  CHECK(plain->display_name.empty());
  CHECK(plain->address == "noreply@sunbeam.example");
  auto named = parse_mailbox("  阳光证券 <noreply@sunbeam.example> ");
  REQUIRE(named);
  CHECK(named->display_name == "阳光证券");
  CHECK(named->address == "noreply@sunbeam.example");
  auto quoted = parse_mailbox("\"Sunbeam, \\\"Research\\\"\" <r@sunbeam.example>");
  REQUIRE(quoted);
  CHECK(quoted->display_name == "Sunbeam, \"Research\"");
  CHECK(mailbox_header_value(*quoted, 6) == "\"Sunbeam, \\\"Research\\\"\" <r@sunbeam.example>");
  CHECK(mailbox_header_value(Mailbox{"Sunbeam Research", "r@sunbeam.example"}, 6) == "Sunbeam Research <r@sunbeam.example>");
  for (const char* bad : {"", "Name <>", "Name <a@x.com", "Name a@x.com>", "a@x.com, b@x.com", "Name <a@x.com>\r\nBcc: b@y.com"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_mailbox(bad));
  }
}

TEST_CASE("a long UTF-8 display name folds into encoded-words, address last") {
  const Mailbox m{"阳光证券股份有限公司研究所宏观策略组与固定收益组联合发布平台", "research@sunbeam.example"};
  const std::string v = "From: " + mailbox_header_value(m, 6);
  const auto lines = split(v, "\r\n");
  CHECK(lines.size() >= 2);
  for (const auto& l : lines) CHECK(l.size() <= 76);
  std::string unfolded;
  for (const auto& l : lines) unfolded += l;
  CHECK(unfolded.ends_with(" <research@sunbeam.example>"));
  CHECK(decode_header(unfolded.substr(6, unfolded.rfind(' ') - 6)) == m.display_name);
}

TEST_CASE("RFC 5322 dates are English and UTC whatever the locale") {
  CHECK(rfc5322_date(when) == "Wed, 25 Nov 2026 00:45:00 +0000");
  CHECK(rfc5322_date(SystemTime(std::chrono::seconds(0))) == "Thu, 01 Jan 1970 00:00:00 +0000");
}
