#include "bench/micro/fixtures.h"

#include "bench/common/generated_subscribers.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

namespace sunbeam::bench {
namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_micro: %s\n", message.c_str());
  std::exit(1);
}

EventTypeConfig event_type(std::string name, AudienceKind audience, std::map<std::string, std::vector<Channel>> channels) {
  EventTypeConfig t;
  t.template_name = name;
  t.name = std::move(name);
  t.audience = audience;
  t.channels = std::move(channels);
  t.symbol_required = audience == AudienceKind::holders || audience == AudienceKind::watchers;
  return t;
}

Config make_config() {
  using enum Channel;
  Config c;
  c.tiers = {"advisor", "research", "basic"};
  c.event_types.push_back(event_type("ipo_subscription", AudienceKind::all,
                                     {{"advisor", {sms, email}}, {"research", {sms, email}}, {"basic", {sms}}}));
  c.event_types.push_back(
      event_type("allotment_result", AudienceKind::explicit_accounts, {{"advisor", {sms}}, {"research", {sms}}, {"basic", {sms}}}));
  auto risk = event_type("risk_alert", AudienceKind::holders, {{"advisor", {sms, email}}, {"research", {sms}}});
  risk.priority = Priority::urgent;
  c.event_types.push_back(risk);
  auto pick = event_type("stock_pick", AudienceKind::tiers, {{"advisor", {sms, email}}, {"research", {sms}}});
  pick.marketing = true;
  c.event_types.push_back(pick);
  c.defaults.locale = "zh-CN";
  c.sms.signature = "【阳光证券】";
  c.sms.signature_position = SignaturePosition::prefix;
  c.sms.opt_out_suffix = "回T退订";
  c.sms.max_parts = 4;
  return c;
}

std::filesystem::path source_dir() {
  if (const char* env = std::getenv("SUNBEAM_SOURCE_DIR"); env && *env) return env;
  return SUNBEAM_BENCH_SOURCE_DIR;
}

std::unique_ptr<Directory> generate_directory(long n) {
  std::mt19937_64 rng(42);
  std::ostringstream subscribers_out;
  subscribers_out << subscribers_csv_header;
  std::string holdings = "account_id,symbol\n";
  holdings.reserve(std::size_t(n) * 5 * 18);
  for (long i = 0; i < n; ++i) {
    write_subscriber_row(subscribers_out, i, rng);
    const std::string account = "C" + std::to_string(i);
    if (i % 10 == 0) holdings += account + ",600519.SH\n";
    // About 4.5 other holdings each, distinct symbols (601000-604999, never 600519).
    const int others = 3 + int(rng() % 4);
    const long first = long(rng() % 4000);
    for (int k = 0; k < others; ++k) holdings += account + ',' + std::to_string(601000 + (first + k * 997) % 4000) + ".SH\n";
  }
  std::istringstream subscribers_in(std::move(subscribers_out).str()), holdings_in(std::move(holdings));
  DirectorySources sources;
  sources.subscribers = &subscribers_in;
  sources.holdings = &holdings_in;
  auto load = load_directory(sources, config());
  if (!load.problems.empty()) die("generated directory refused: " + load.problems.front().to_string());
  if (load.directory.size() != std::size_t(n)) die("generated directory has the wrong size");
  return std::make_unique<Directory>(std::move(load.directory));
}

}  // namespace

const Config& config() {
  static const Config c = make_config();
  return c;
}

const TemplateSet& templates() {
  static const std::shared_ptr<const TemplateSet> set = [] {
    const auto dir = source_dir() / "templates" / "messages";
    auto load = TemplateSet::load(dir, config());
    if (!load.set) {
      std::string what = "templates in " + dir.string() + " do not load";
      if (!load.problems.empty()) what += ": " + load.problems.front().to_string();
      die(what + " (set SUNBEAM_SOURCE_DIR to the checkout)");
    }
    return load.set;
  }();
  return *set;
}

std::string template_file_text(const std::string& locale, const std::string& file) {
  const auto path = source_dir() / "templates" / "messages" / locale / file;
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ipo_event_json() {
  return R"({"id":"ipo-2026-11-25-688999","type":"ipo_subscription","symbol":"688999.SH",)"
         R"("occurred_at":"2026-11-25T08:30:00+08:00","expires_at":"2026-11-27T15:00:00+08:00",)"
         R"("data":{"name":"华芯科技","subscribe_date":"2026-11-27","price":"28.88","limit_shares":"15500","board":"科创板"}})";
}

std::string risk_alert_json() {
  return R"({"id":"risk-2026-11-25-600519-1012","type":"risk_alert","symbol":"600519.SH",)"
         R"("occurred_at":"2026-11-25T10:12:00+08:00","priority":"urgent",)"
         R"("data":{"name":"贵州茅台","level":"高","message":"盘中跌幅超过7%，请关注仓位风险"}})";
}

std::string allotment_json(int accounts) {
  std::mt19937_64 rng(7);
  std::string out = R"({"id":"allot-2026-11-25-688999","type":"allotment_result","symbol":"688999.SH",)"
                    R"("occurred_at":"2026-11-25T18:00:00+08:00","data":{"name":"华芯科技","pay_by":"2026-12-01"},)"
                    R"("audience":{"accounts":[)";
  for (int i = 0; i < accounts; ++i) {
    const int lots = 1 + int(rng() % 3);
    if (i) out += ',';
    out += R"({"account":"C)" + std::to_string(rng() % 1'000'000) + R"(","data":{"lots":)" + std::to_string(lots) +
           R"(,"shares":)" + std::to_string(500 * lots) + R"(,"amount":")" + std::to_string(14440 * lots) + ".00\"}}";
  }
  return out + "]}}";
}

std::string stock_pick_json() {
  return R"({"id":"pick-2026-11-25-601318","type":"stock_pick","symbol":"601318.SH",)"
         R"("occurred_at":"2026-11-25T07:50:00+08:00","audience":{"tiers":["advisor","research"]},)"
         R"("data":{"name":"中国平安","reason":"估值处于历史低位，分红稳定","entry_range":"48.5-50.0","stop_loss":"46",)"
         R"("target_price":"58"}})";
}

const Directory& directory(long subscribers) {
  static std::mutex mutex;
  static std::map<long, std::unique_ptr<Directory>> made;
  std::lock_guard lock(mutex);
  auto& d = made[subscribers];
  if (!d) {
    std::fprintf(stderr, "bench_micro: generating a directory of %ld subscribers\n", subscribers);
    d = generate_directory(subscribers);
  }
  return *d;
}

}  // namespace sunbeam::bench
