// Shaping rendered text: SMS paragraphs, one-line subjects, e-mail parts.
#include "templates/plain_text.h"

#include <doctest/doctest.h>

#include <string>

using namespace sunbeam;
using namespace std::string_literals;

TEST_CASE("an SMS is one paragraph: whitespace runs fold to one space, ends trimmed") {
  CHECK(fold_sms_whitespace("  Dear Li Na,\n\n  IPO 688999.SH\t opens \r\n today.  \n") ==
        "Dear Li Na, IPO 688999.SH opens today.");
  CHECK(fold_sms_whitespace("") == "");
  CHECK(fold_sms_whitespace(" \n\t ") == "");
}

TEST_CASE("a line break between two Chinese characters disappears, a typed space stays") {
  CHECK(fold_sms_whitespace("李娜您好，\n  新股华芯科技\n申购。") == "李娜您好，新股华芯科技申购。");
  CHECK(fold_sms_whitespace("华芯科技 科创板") == "华芯科技 科创板");        // no line break: the author's space
  CHECK(fold_sms_whitespace("发行价\n28.88元") == "发行价 28.88元");         // Chinese meets Latin: a space
  CHECK(fold_sms_whitespace("（688999.SH）\n申购") == "（688999.SH）申购");  // fullwidth punctuation is Chinese
}

TEST_CASE("a subject is one line whatever the data holds") {
  CHECK(subject_line("Rating change\r\nBcc: x@y") == "Rating change Bcc: x@y");
  CHECK(subject_line("\n 评级调整 \n") == "评级调整");
  CHECK(subject_line("a\rb\nc\td\0e\x7f"s + "f") == "a b c d e f");
  CHECK(subject_line("a\u2028b\u2029c\u0085d") == "a b c d");  // Unicode line and paragraph separators
  CHECK(subject_line("【评级调整】贵州茅台") == "【评级调整】贵州茅台");
}

TEST_CASE("an e-mail part loses its blank lines at either end and its CRs") {
  CHECK(trim_blank_lines("\n\n  Dear Li Na,\r\n\r\nRegards\n\n") == "  Dear Li Na,\n\nRegards");
  CHECK(trim_blank_lines(" \n \n") == "");
  CHECK(trim_blank_lines("one line") == "one line");
}
