// SMS part counting (templates/sms_parts.h), as the renderer does it for
// every SMS: compose the text with the signature (【阳光证券】, 6 characters,
// prefix), then count it. Chinese texts of 70, 71 and 300 characters with
// the signature (UCS-2: 1, 2 and 5 parts) and, unsigned, GSM-7 texts of 160,
// 161 and 300 characters (1, 2 and 2 parts). Baseline: decoding the same
// UTF-8 and counting code points, the floor of any counter.
#include "bench/micro/fixtures.h"
#include "templates/sms_parts.h"
#include "templates/utf8.h"

#include <benchmark/benchmark.h>

#include <string_view>
#include <vector>

namespace sunbeam::bench {
namespace {

constexpr int signature_chars = 6;  // 【阳光证券】

// `chars` characters of a realistic Chinese alert (repeated as needed).
std::string chinese(int chars) {
  static const std::string_view sentence = "王芳您好，风险提示：您持有的贵州茅台（600519.SH）盘中跌幅超过7%，请关注仓位风险，风险等级高。";
  std::vector<std::string_view> characters;  // the sentence's UTF-8 sequences (all well-formed)
  for (std::size_t i = 0; i < sentence.size();) {
    const auto lead = static_cast<unsigned char>(sentence[i]);
    const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    characters.push_back(sentence.substr(i, n));
    i += n;
  }
  std::string out;
  for (int i = 0; i < chars; ++i) out += characters[std::size_t(i) % characters.size()];
  return out;
}

std::string gsm(int chars) {
  static const std::string sentence = "Dear Alice Wong, risk alert: 600519.SH fell over 7% intraday; please review your position. ";
  std::string out;
  for (int i = 0; i < chars; ++i) out += sentence[std::size_t(i) % sentence.size()];
  return out;
}

struct Case {
  std::string body;  // before the signature
  bool signed_;
  SmsEncoding encoding;
  int parts;
};

void CountSmsParts(benchmark::State& state, const Case& c) {
  SmsConfig sms = config().sms;
  if (!c.signed_) sms.signature.clear();
  const auto check = count_sms_parts(compose_sms(c.body, sms, false));
  if (check.encoding != c.encoding || check.parts != c.parts)
    return state.SkipWithError("unexpected encoding or parts for this text");
  state.SetLabel(std::string(to_string(check.encoding)) + ", " + std::to_string(check.units) + " units, " +
                 std::to_string(check.parts) + " part(s)");
  for (auto _ : state) {
    auto parts = count_sms_parts(compose_sms(c.body, sms, false));
    benchmark::DoNotOptimize(parts);
  }
  state.SetItemsProcessed(state.iterations());
}

// Baseline: the UTF-8 decode alone over the composed text.
void DecodeUtf8(benchmark::State& state, const Case& c) {
  SmsConfig sms = config().sms;
  if (!c.signed_) sms.signature.clear();
  const std::string text = compose_sms(c.body, sms, false);
  for (auto _ : state) {
    std::size_t code_points = 0;
    utf8::for_each_code_point(text, [&](char32_t cp) { code_points += cp != 0; });
    benchmark::DoNotOptimize(code_points);
  }
  state.SetItemsProcessed(state.iterations());
}

const Case zh_70{chinese(70 - signature_chars), true, SmsEncoding::ucs2, 1};
const Case zh_71{chinese(71 - signature_chars), true, SmsEncoding::ucs2, 2};
const Case zh_300{chinese(300 - signature_chars), true, SmsEncoding::ucs2, 5};
const Case gsm_160{gsm(160), false, SmsEncoding::gsm7, 1};
const Case gsm_161{gsm(161), false, SmsEncoding::gsm7, 2};
const Case gsm_300{gsm(300), false, SmsEncoding::gsm7, 2};

BENCHMARK_CAPTURE(CountSmsParts, zh_70_signed, zh_70);
BENCHMARK_CAPTURE(CountSmsParts, zh_71_signed, zh_71);
BENCHMARK_CAPTURE(CountSmsParts, zh_300_signed, zh_300);
BENCHMARK_CAPTURE(CountSmsParts, gsm7_160, gsm_160);
BENCHMARK_CAPTURE(CountSmsParts, gsm7_161, gsm_161);
BENCHMARK_CAPTURE(CountSmsParts, gsm7_300, gsm_300);
BENCHMARK_CAPTURE(DecodeUtf8, zh_300_signed, zh_300);
BENCHMARK_CAPTURE(DecodeUtf8, gsm7_300, gsm_300);

}  // namespace
}  // namespace sunbeam::bench
