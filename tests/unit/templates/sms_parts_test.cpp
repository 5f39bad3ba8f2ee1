// SMS part counting as a handset does it, and the composed text (signature,
// opt-out suffix) that is counted.
#include "templates/sms_parts.h"

#include <doctest/doctest.h>

#include <string>

using namespace sunbeam;

namespace {

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

SmsParts gsm7(int units, int parts) { return {SmsEncoding::gsm7, units, parts}; }
SmsParts ucs2(int units, int parts) { return {SmsEncoding::ucs2, units, parts}; }

SmsConfig sunshine(SignaturePosition position = SignaturePosition::prefix) {
  SmsConfig sms;
  sms.signature = "【阳光证券】";
  sms.signature_position = position;
  sms.opt_out_suffix = "回T退订";
  return sms;
}

}  // namespace

TEST_CASE("an empty text is one empty message") { CHECK(count_sms_parts("") == gsm7(0, 1)); }

TEST_CASE("GSM-7: 160 septets in one message, 153 per part once split") {
  CHECK(count_sms_parts(repeat("a", 160)) == gsm7(160, 1));
  CHECK(count_sms_parts(repeat("a", 161)) == gsm7(161, 2));
  CHECK(count_sms_parts(repeat("a", 306)) == gsm7(306, 2));
  CHECK(count_sms_parts(repeat("a", 307)) == gsm7(307, 3));
  CHECK(count_sms_parts(repeat("a", 459)) == gsm7(459, 3));
  CHECK(count_sms_parts(repeat("a", 460)) == gsm7(460, 4));
}

TEST_CASE("GSM-7 covers the default alphabet's accents and symbols") {
  CHECK(count_sms_parts("Price: £12, ¥80 @ 9:30 — no").encoding == SmsEncoding::ucs2);  // the em dash is not GSM
  CHECK(count_sms_parts("Price: £12, ¥80 @ 9:30 - ok! ¿Qué? Ærø ß").encoding == SmsEncoding::gsm7);
  CHECK(count_sms_parts("line one\nline two") == gsm7(17, 1));
}

TEST_CASE("GSM-7 extension characters take two septets each") {
  CHECK(count_sms_parts("€") == gsm7(2, 1));
  CHECK(count_sms_parts("€[]{}^~|\\") == gsm7(18, 1));
  CHECK(count_sms_parts(repeat("€", 80)) == gsm7(160, 1));
  CHECK(count_sms_parts(repeat("a", 159) + "€") == gsm7(161, 2));
  CHECK(count_sms_parts(repeat("a", 158) + "^") == gsm7(160, 1));
}

TEST_CASE("GSM-7: a two-septet character never straddles two parts") {
  // 152 + 2 + 152 = 306 septets would fit 2 x 153, but the '{' cannot be cut:
  // part one ends after 152, part two holds 154 > 153, so a third part.
  CHECK(count_sms_parts(repeat("a", 152) + "{" + repeat("a", 152)) == gsm7(306, 3));
  CHECK(count_sms_parts(repeat("a", 151) + "{" + repeat("a", 153)) == gsm7(306, 2));
}

TEST_CASE("UCS-2: 70 units in one message, 67 per part once split") {
  CHECK(count_sms_parts(repeat("中", 70)) == ucs2(70, 1));
  CHECK(count_sms_parts(repeat("中", 71)) == ucs2(71, 2));
  CHECK(count_sms_parts(repeat("中", 134)) == ucs2(134, 2));
  CHECK(count_sms_parts(repeat("中", 135)) == ucs2(135, 3));
  CHECK(count_sms_parts(repeat("中", 201)) == ucs2(201, 3));
  CHECK(count_sms_parts(repeat("中", 202)) == ucs2(202, 4));
}

TEST_CASE("one character outside GSM-7 makes the whole text UCS-2, ASCII included") {
  CHECK(count_sms_parts("贵州茅台 600519.SH") == ucs2(14, 1));
  CHECK(count_sms_parts(repeat("a", 69) + "é") == gsm7(70, 1));  // é is in the GSM alphabet
  CHECK(count_sms_parts(repeat("a", 69) + "ê") == ucs2(70, 1));  // ê is not
  CHECK(count_sms_parts(repeat("a", 70) + "ê") == ucs2(71, 2));
  CHECK(count_sms_parts("€中") == ucs2(2, 1));  // in UCS-2 the euro sign is one unit
}

TEST_CASE("an emoji (outside the BMP) takes two UTF-16 units and is never cut in half") {
  CHECK(count_sms_parts("😀") == ucs2(2, 1));
  CHECK(count_sms_parts(repeat("中", 68) + "😀") == ucs2(70, 1));
  CHECK(count_sms_parts(repeat("中", 69) + "😀") == ucs2(71, 2));
  CHECK(count_sms_parts(repeat("中", 66) + "😀" + repeat("中", 66)) == ucs2(134, 3));
  CHECK(count_sms_parts(repeat("中", 65) + "😀" + repeat("中", 67)) == ucs2(134, 2));
}

TEST_CASE("invalid UTF-8 counts as a replacement character, which forces UCS-2") {
  CHECK(count_sms_parts("ok \xFF") == ucs2(4, 1));
  CHECK(count_sms_parts("cut \xE4\xB8") == ucs2(6, 1));  // a truncated 中: two bytes, two replacements
}

TEST_CASE("compose_sms: the signature as prefix or suffix") {
  CHECK(compose_sms("您好。", sunshine(), false) == "【阳光证券】您好。");
  CHECK(compose_sms("您好。", sunshine(SignaturePosition::suffix), false) == "您好。【阳光证券】");
  SmsConfig unsigned_sms = sunshine();
  unsigned_sms.signature.clear();
  CHECK(compose_sms("您好。", unsigned_sms, false) == "您好。");
}

TEST_CASE("compose_sms: marketing types end with the opt-out suffix, before a suffix signature") {
  CHECK(compose_sms("今日关注宁德时代。", sunshine(), true) == "【阳光证券】今日关注宁德时代。回T退订");
  CHECK(compose_sms("今日关注宁德时代。", sunshine(SignaturePosition::suffix), true) == "今日关注宁德时代。回T退订【阳光证券】");
  CHECK(compose_sms("Target 290.", sunshine(), true) == "【阳光证券】Target 290. 回T退订");  // Latin text gets a space
  CHECK(compose_sms("Target 290. ", sunshine(), true) == "【阳光证券】Target 290. 回T退订");
  CHECK(compose_sms("今日关注宁德时代。", sunshine(), false) == "【阳光证券】今日关注宁德时代。");
  SmsConfig english = sunshine();
  english.opt_out_suffix = "Reply STOP to opt out";
  CHECK(compose_sms("Pick: 300750.SZ", english, true) == "【阳光证券】Pick: 300750.SZ Reply STOP to opt out");
}

TEST_CASE("the signature is counted in the parts") {
  const auto body = repeat("中", 64);
  CHECK(count_sms_parts(compose_sms(body, sunshine(), false)) == ucs2(70, 1));
  CHECK(count_sms_parts(compose_sms(body + "中", sunshine(), false)) == ucs2(71, 2));
  // A GSM-7 body under a Chinese signature goes out as UCS-2.
  CHECK(count_sms_parts(compose_sms("Hello", sunshine(), false)) == ucs2(11, 1));
  // The opt-out suffix counts too: 60 + 6 + 4.
  CHECK(count_sms_parts(compose_sms(repeat("中", 60), sunshine(), true)) == ucs2(70, 1));
  CHECK(count_sms_parts(compose_sms(repeat("中", 61), sunshine(), true)) == ucs2(71, 2));
}
