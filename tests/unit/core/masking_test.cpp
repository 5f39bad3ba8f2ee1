// Masking personal data in addresses and in free text.
#include "engine/core/masking.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace sunbeam;

TEST_CASE("addresses are masked in the brokers' style") {
  CHECK(mask_phone("13812345678") == "138****5678");
  CHECK(mask_phone("+8613812345678") == "+86138****5678");
  CHECK(mask_email("zhang.wei@example.com") == "z***@example.com");
  CHECK(mask_address("zhang.wei@example.com") == "z***@example.com");
  CHECK(mask_address("13812345678") == "138****5678");
}

TEST_CASE("mask_text masks every phone number and e-mail address in free text, and nothing else") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Nothing personal: unchanged, byte for byte.
      {"", ""},
      {"gateway answered 503", "gateway answered 503"},
      {"delivery 9f86d081884c7d659a2feaa0c55ad015 sent", "delivery 9f86d081884c7d659a2feaa0c55ad015 sent"},
      {"delivery 13812345678901234567890123456789 sent", "delivery 13812345678901234567890123456789 sent"},
      {"id ab13812345678cd and 13812345678ef", "id ab13812345678cd and 13812345678ef"},
      {"at 2026-11-25T08:45:00.123+08:00", "at 2026-11-25T08:45:00.123+08:00"},
      {"amount 1234567.89 CNY, 13812345678.50 CNY", "amount 1234567.89 CNY, 13812345678.50 CNY"},
      {"ratio 0.13812345678", "ratio 0.13812345678"},
      {"600519.SH up 3%, 000001.SZ", "600519.SH up 3%, 000001.SZ"},
      {"offset 1732512300000 partition 3", "offset 1732512300000 partition 3"},
      {"12812345678 is no mobile", "12812345678 is no mobile"},
      {"1381234567 and 138123456789 are too short and too long", "1381234567 and 138123456789 are too short and too long"},
      {"version 1+2 and c++17", "version 1+2 and c++17"},
      {"+123456 is too short for E.164", "+123456 is too short for E.164"},
      {"mention @zhang, not@anaddress, a@localhost", "mention @zhang, not@anaddress, a@localhost"},
      {"snake_13812345678 and 13812345678_x", "snake_13812345678 and 13812345678_x"},
      // Mainland mobiles, whole runs, wherever they stand.
      {"13812345678", "138****5678"},
      {"to 13812345678: rejected", "to 138****5678: rejected"},
      {"numbers 13812345678,13912345678.", "numbers 138****5678,139****5678."},
      {"phone=19912345678&text=hi", "phone=199****5678&text=hi"},
      {"8613812345678 and 008613812345678", "86138****5678 and 0086138****5678"},
      // E.164.
      {"+8613812345678 unreachable", "+86138****5678 unreachable"},
      {"to=+14155552671;", "to=+141****2671;"},
      {"+4930123456", "+493***3456"},
      {"x+13812345678", "x+138****5678"},  // '+' inside a word: the mobile still counts
      // E-mail.
      {"550 5.1.1 <zhang.wei@example.com>: Recipient address rejected",
       "550 5.1.1 <z***@example.com>: Recipient address rejected"},
      {"write to li_na+alerts@mail.example.com.cn.", "write to l***@mail.example.com.cn."},
      {"13812345678@139.com bounced", "1***@139.com bounced"},
      {"a@b.co, c.d@e-f.org", "a***@b.co, c***@e-f.org"},
      {"..x@example.com", "..x***@example.com"},
      {"user@127.0.0.1", "user@127.0.0.1"},
      // Both, in Chinese text, right next to the addresses.
      {"用户13812345678的短信发送失败", "用户138****5678的短信发送失败"},
      {"客户张伟（zhang.wei@example.com，电话+8613912345678）退订",
       "客户张伟（z***@example.com，电话+86139****5678）退订"},
      {"邮箱：wang@example.cn。手机：15012345678。", "邮箱：w***@example.cn。手机：150****5678。"},
      {"Message\n13812345678\nzhang@example.com\n", "Message\n138****5678\nz***@example.com\n"},
  };
  for (const auto& [in, out] : cases) {
    CAPTURE(in);
    CHECK(mask_text(in) == out);
  }
}

TEST_CASE("mask_text is idempotent: masked text stays as it is") {
  for (std::string in : {"to 13812345678 and zhang.wei@example.com", "+8613812345678, 8613812345678"}) {
    const auto once = mask_text(in);
    CHECK(mask_text(once) == once);
  }
}
