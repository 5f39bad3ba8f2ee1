#include "config/config.h"
#include "engine/directory/directory.h"
#include "tests/support/source_dir.h"
#include "tests/support/test_config.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace sunbeam;

namespace {

const std::string header = "account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n";

DirectoryLoad load(const std::string& subscribers, const std::string& holdings = "",
                   const std::string& watchlist = "") {
  static const Config config = test::small_config();
  std::istringstream s(subscribers), h(holdings), w(watchlist);
  DirectorySources src;
  src.subscribers = &s;
  if (!holdings.empty()) src.holdings = &h;
  if (!watchlist.empty()) src.watchlist = &w;
  return load_directory(src, config);
}

bool has_problem(const DirectoryLoad& d, const std::string& file, int line, const std::string& words) {
  for (const auto& p : d.problems)
    if (p.file == file && p.line == line && p.what.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("good rows load, with normalised mobiles and parsed preferences") {
  auto d = load(header +
                "A1,张伟,advisor,13800000001,a1@example.com,zh-CN,sms+email,22:00-07:30,Asia/Shanghai,email;stock_pick\n"
                "B1,Alice Wong,basic,+447700900123,,en,sms,,,\n");
  REQUIRE(d.problems.empty());
  REQUIRE(d.directory.size() == 2);
  const Subscriber* a = d.directory.find("A1");
  REQUIRE(a);
  CHECK(a->name == "张伟");
  CHECK(a->mobile == "+8613800000001");
  CHECK(a->tier == 0);
  CHECK(a->channels.contains(Channel::email));
  CHECK(a->quiet_hours == QuietHours{1320, 450});
  CHECK(a->opt_out_channels.contains(Channel::email));
  CHECK(a->opted_out_of(5));  // stock_pick is type 5 in the test config
  CHECK_FALSE(a->opted_out_of(0));
  CHECK(d.directory.find("B1")->mobile == "+447700900123");
  CHECK(d.directory.in_tier(2).size() == 1);
  CHECK(d.directory.find("nobody") == nullptr);
}

TEST_CASE("each bad field is reported with its line and the row skipped, the others kept") {
  auto d = load(header +
                "OK1,好,basic,13800000001,,zh-CN,sms,,,\n"                 // 2
                "X2,坏,gold,13800000002,,zh-CN,sms,,,\n"                   // 3 tier
                "X3,坏,basic,12345,,zh-CN,sms,,,\n"                        // 4 mobile
                "X4,坏,basic,13800000004,not-an-email,zh-CN,email,,,\n"    // 5 email
                "X5,坏,basic,13800000005,,fr,sms,,,\n"                     // 6 locale
                "X6,坏,basic,13800000006,,zh-CN,fax,,,\n"                  // 7 channels
                "X7,坏,basic,,x7@example.com,zh-CN,sms,,,\n"               // 8 sms without mobile
                "X8,坏,basic,13800000008,,zh-CN,sms,9pm-7am,,\n"           // 9 quiet hours
                "X9,坏,basic,13800000009,,zh-CN,sms,,Mars/Olympus,\n"      // 10 timezone
                "X10,坏,basic,13800000010,,zh-CN,sms,,,horoscope\n"        // 11 opt_out
                "X 11,坏,basic,13800000011,,zh-CN,sms,,,\n"                // 12 account id
                "OK1,重复,basic,13800000012,,zh-CN,sms,,,\n"               // 13 duplicate
                "X13,short,basic\n"                                        // 14 field count
                "OK2,好,research,13800000014,,en,sms,,,\n");               // 15
  CHECK(d.directory.size() == 2);
  CHECK(d.directory.find("OK2"));
  const std::string f = "subscribers.csv";
  CHECK(has_problem(d, f, 3, "tier \"gold\" is not one of advisor, research, basic"));
  CHECK(has_problem(d, f, 4, "mobile"));
  CHECK(has_problem(d, f, 5, "email"));
  CHECK(has_problem(d, f, 6, "locale"));
  CHECK(has_problem(d, f, 7, "channels"));
  CHECK(has_problem(d, f, 8, "no mobile"));
  CHECK(has_problem(d, f, 9, "quiet_hours"));
  CHECK(has_problem(d, f, 10, "timezone"));
  CHECK(has_problem(d, f, 11, "horoscope"));
  CHECK(has_problem(d, f, 12, "account_id"));
  CHECK(has_problem(d, f, 13, "already appears on line 2"));
  CHECK(has_problem(d, f, 14, "expected 10 fields"));
  CHECK(d.problems.size() == 12);
}

TEST_CASE("quoted fields may hold commas, quotes and newlines; lines stay right") {
  auto d = load("\xEF\xBB\xBF" + header +
                "Q1,\"Wong, Alice \"\"Ali\"\"\",basic,13800000001,,en,sms,,,\n"
                "Q2,\"two\nlines\",basic,13800000002,,en,sms,,,\n"
                "Q3,坏,gold,13800000003,,zh-CN,sms,,,\n"
                "Q4,\"unclosed,basic,13800000004,,en,sms,,,\n");
  CHECK(d.directory.find("Q1")->name == "Wong, Alice \"Ali\"");
  CHECK(d.directory.find("Q2")->name == "two\nlines");
  CHECK(has_problem(d, "subscribers.csv", 5, "gold"));  // line 5: Q2 took lines 3 and 4
  CHECK(has_problem(d, "subscribers.csv", 6, "not closed"));
  CHECK(d.directory.size() == 2);
}

TEST_CASE("CRLF line ends, and a quote inside an unquoted field, read as written") {
  auto d = load(header +
                "C1,O\"Brien,basic,13800000001,,en,sms,,,\r\n"
                "C2,\"Lee\",basic,13800000002,b@example.com,en,sms+email,,,\r\n"
                "C3,\"Lee\"x,basic,13800000003,,en,sms,,,\r\n");
  CHECK(d.directory.find("C1")->name == "O\"Brien");
  CHECK(d.directory.find("C2")->name == "Lee");
  CHECK(d.directory.find("C2")->email == "b@example.com");
  CHECK(d.directory.find("C2")->opt_out_channels.empty());  // the last field lost its \r
  CHECK(has_problem(d, "subscribers.csv", 4, "after a closing quote"));
}

TEST_CASE("holdings over many look-up batches: every good row indexed once, problems in line order") {
  std::string subscribers = header, holdings = "account_id,symbol\n";
  for (int i = 0; i < 600; ++i) subscribers += "A" + std::to_string(i) + ",n,basic,138" + std::to_string(10000000 + i) + ",,en,sms,,,\n";
  std::map<std::string, std::set<std::string>> want;  // symbol -> accounts
  std::vector<int> bad_lines;
  for (int k = 0; k < 1000; ++k) {
    const int line = k + 2;
    const std::string symbol = "60000" + std::to_string(k % 5) + ".SH";
    if (k % 97 == 0) {
      holdings += "ZZ" + std::to_string(k) + "," + symbol + "\n";
      bad_lines.push_back(line);
      continue;
    }
    const std::string account = "A" + std::to_string(k * 7 % 600);  // rows k and k + 600 repeat each other
    holdings += account + "," + symbol + "\n";
    want[symbol].insert(account);
  }
  auto d = load(subscribers, holdings);
  REQUIRE(d.directory.size() == 600);
  std::size_t total = 0;
  for (const auto& [symbol, accounts] : want) {
    const auto members = d.directory.holders(symbol);
    CHECK(std::is_sorted(members.begin(), members.end()));
    std::set<std::string> got;
    for (auto i : members) got.insert(d.directory.at(i).account);
    CHECK(got == accounts);
    CHECK(members.size() == accounts.size());  // no repeats
    total += accounts.size();
  }
  CHECK(d.directory.holdings_count() == total);
  REQUIRE(d.problems.size() == bad_lines.size());
  for (std::size_t i = 0; i < bad_lines.size(); ++i) CHECK(d.problems[i].line == bad_lines[i]);
}

TEST_CASE("a wrong header is reported on line 1 and nothing loads") {
  auto d = load("account,name,tier\nA1,x,basic\n");
  CHECK(d.directory.size() == 0);
  CHECK(has_problem(d, "subscribers.csv", 1, "header"));
}

TEST_CASE("holdings and watchlists: indexes by symbol, bad rows named") {
  auto d = load(header + "A1,a,advisor,13800000001,,zh-CN,sms,,,\nB1,b,basic,13800000002,,zh-CN,sms,,,\n",
                "account_id,symbol\nA1,600519.SH\nB1,600519.SH\nB1,000001.SZ\nZZ,600519.SH\nA1,600519\nA1,600519.SH\n",
                "account_id,symbol\nB1,300750.SZ\n");
  CHECK(d.directory.holders("600519.SH").size() == 2);  // the repeated A1 row counts once
  CHECK(d.directory.holders("000001.SZ").size() == 1);
  CHECK(d.directory.holders("688981.SH").empty());
  CHECK(d.directory.watchers("300750.SZ").size() == 1);
  CHECK(d.directory.at(d.directory.watchers("300750.SZ")[0]).account == "B1");
  CHECK(d.directory.holdings_count() == 3);
  CHECK(has_problem(d, "holdings.csv", 5, "ZZ"));
  CHECK(has_problem(d, "holdings.csv", 6, "security code"));
}

TEST_CASE("the shipped sample directory loads cleanly") {
  auto config = load_config(test::source_dir() / "config" / "sample" / "sunbeam.yaml");
  REQUIRE(config.config);
  auto d = load_directory(config.config->directory, *config.config);
  for (const auto& p : d.problems) FAIL(p.to_string());
  CHECK(d.directory.size() == 36);
  CHECK(d.directory.holdings_count() > 20);
}

// Fan-out plans deliveries in the directory's order, and dispatch's ledger and
// the status index are keyed by account: the order is account order, whatever
// the file's.
TEST_CASE("subscribers are numbered in account order; tiers, holders and watchers follow it") {
  std::string subscribers = header, holdings = "account_id,symbol\n", watchlist = "account_id,symbol\n";
  std::vector<std::string> accounts;
  for (int i = 0; i < 300; ++i) accounts.push_back("C" + std::to_string(i * 7919 % 1000));  // C0, C919, C838, ...
  accounts.push_back("C919");  // a repeat, reported with both lines
  accounts.push_back("C1000000000");  // longer than the 8 bytes sorted on first
  accounts.push_back("C10000000");
  for (const auto& a : accounts) {
    subscribers += a + ",n," + (a.size() % 2 ? "basic" : "advisor") + ",13800000001,,en,sms,,,\n";
    holdings += a + ",600519.SH\n";
    watchlist += a + ",000001.SZ\n";
  }
  auto d = load(subscribers, holdings, watchlist);
  REQUIRE(d.problems.size() == 1);
  CHECK(has_problem(d, "subscribers.csv", 302, "already appears on line 3"));
  REQUIRE(d.directory.size() == 302);
  std::vector<std::string> in_order;
  for (SubscriberIndex i = 0; i < d.directory.size(); ++i) in_order.push_back(d.directory.at(i).account);
  CHECK(std::is_sorted(in_order.begin(), in_order.end()));
  for (const auto& a : accounts) {
    const Subscriber* s = d.directory.find(a);
    REQUIRE(s);
    CHECK(s->account == a);  // the index follows the new numbers
  }
  const auto accounts_of = [&](std::span<const SubscriberIndex> list) {
    std::vector<std::string> out;
    for (auto i : list) out.push_back(d.directory.at(i).account);
    return out;
  };
  for (std::size_t tier : {0u, 2u}) {
    const auto in_tier = accounts_of(d.directory.in_tier(tier));
    CHECK(!in_tier.empty());
    CHECK(std::is_sorted(in_tier.begin(), in_tier.end()));
    for (auto i : d.directory.in_tier(tier)) CHECK(d.directory.at(i).tier == tier);
  }
  CHECK(d.directory.in_tier(0).size() + d.directory.in_tier(2).size() == 302);
  CHECK(accounts_of(d.directory.holders("600519.SH")) == in_order);
  CHECK(accounts_of(d.directory.watchers("000001.SZ")) == in_order);
}

// load_directory(files) cuts large files into parts read on several threads
// (split_csv); a stream is read in one. Both must give the same directory and
// the same problems, in line order, with their lines.
TEST_CASE("large files read in parallel parts load exactly as they read from streams") {
  static const Config config = test::small_config();
  std::string subscribers = header, holdings = "account_id,symbol\n", watchlist = "account_id,symbol\n";
  // ~2.6 MB of subscribers and ~3 MB of holdings: over the smallest part, so
  // any machine with two threads cuts them. Bad rows, blank lines, records
  // spanning lines and repeated accounts are spread over both halves; the
  // accounts are not in order, so the load sorts them.
  const int people = 40000;
  for (int i = 0; i < people; ++i) {
    const std::string account = "A" + std::to_string((i * 7919) % people);
    if (i % 4999 == 0) subscribers += account + ",n,gold,13800000000,,en,sms,,,\n";  // a bad tier
    else if (i % 5003 == 0) subscribers += "\n";
    else if (i % 3001 == 0) subscribers += account + ",\"two\nlines\",basic,13800000000,,en,sms,,Asia/Shanghai,\n";
    else subscribers += account + ",n,basic,138" + std::to_string(10000000 + i) + ",,en,sms,,,\n";
    if (i % 7001 == 0) subscribers += "A" + std::to_string((i * 7919) % people) + ",again,basic,13800000000,,en,sms,,,\n";
  }
  for (int k = 0; k < 200000; ++k) {
    if (k % 9973 == 0) holdings += "ZZ" + std::to_string(k) + ",600519.SH\n";  // an unknown account
    else if (k % 10007 == 0) holdings += "A1,\"bad\nsymbol\"\n";            // a quoted newline: two lines
    else holdings += "A" + std::to_string(k * 7 % people) + ",6" + std::to_string(k % 3000 + 10000) + ".SH\n";
    if (k % 50 == 0) watchlist += "A" + std::to_string(k % people) + ",300750.SZ\n";
  }
  const auto dir = std::filesystem::temp_directory_path() / ("sunbeam-directory-parts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  DirectoryConfig files{write("subscribers.csv", subscribers), write("holdings.csv", holdings),
                        write("watchlist.csv", watchlist)};
  const auto from_files = load_directory(files, config);

  std::istringstream s(subscribers), h(holdings), w(watchlist);
  DirectorySources src;
  src.subscribers = &s, src.holdings = &h, src.watchlist = &w;
  src.subscribers_name = files.subscribers.string(), src.holdings_name = files.holdings.string();
  src.watchlist_name = files.watchlist.string();
  const auto from_streams = load_directory(src, config);
  std::filesystem::remove_all(dir);

  const auto& d = from_files.directory;
  REQUIRE(d.size() == from_streams.directory.size());
  CHECK(d.size() > std::size_t(people) - 20);
  for (SubscriberIndex i = 0; i < d.size(); ++i) {
    CHECK(d.at(i).account == from_streams.directory.at(i).account);
    CHECK(d.at(i).name == from_streams.directory.at(i).name);
    CHECK(d.at(i).mobile == from_streams.directory.at(i).mobile);
    if (i > 0) CHECK(d.at(i - 1).account < d.at(i).account);
    CHECK(d.find(d.at(i).account) == &d.at(i));
  }
  for (std::size_t tier = 0; tier < config.tiers.size(); ++tier) {
    const auto a = d.in_tier(tier), b = from_streams.directory.in_tier(tier);
    CHECK(std::vector(a.begin(), a.end()) == std::vector(b.begin(), b.end()));
  }
  REQUIRE(from_files.problems.size() == from_streams.problems.size());
  CHECK(from_files.problems.size() > 60);
  for (std::size_t i = 0; i < from_files.problems.size(); ++i)
    CHECK(from_files.problems[i].to_string() == from_streams.problems[i].to_string());
  for (std::size_t i = 1; i < from_files.problems.size(); ++i) {
    const auto &before = from_files.problems[i - 1], &now = from_files.problems[i];
    if (before.file == now.file) CHECK(before.line < now.line);
  }
  CHECK(has_problem(from_files, files.subscribers.string(), 2, "gold"));
  // Row 0's account repeats on line 3, but row 0 (line 2) was skipped: line 3 stands.
  CHECK(d.find("A0") != nullptr);
  CHECK(d.find("A0")->name == "again");
  CHECK(std::count_if(from_files.problems.begin(), from_files.problems.end(), [](const Problem& p) {
          return p.what.find("already appears on line") != std::string::npos;
        }) == 5);  // rows 7001, 14002, 21003, 28004, 35005
  CHECK(d.holdings_count() == from_streams.directory.holdings_count());
  CHECK(d.watchlist_count() == from_streams.directory.watchlist_count());
  for (int code = 10000; code < 13000; ++code) {
    const std::string symbol = "6" + std::to_string(code) + ".SH";
    const auto a = d.holders(symbol), b = from_streams.directory.holders(symbol);
    CHECK(std::vector(a.begin(), a.end()) == std::vector(b.begin(), b.end()));
  }
}

TEST_CASE("a large file with a wrong header, read in parts: reported on line 1, nothing loads") {
  static const Config config = test::small_config();
  std::string subscribers = "account,name,tier\n";
  for (int i = 0; i < 60000; ++i) subscribers += "A" + std::to_string(i) + ",n,basic,13800000000,,en,sms,,,\n";
  const auto dir = std::filesystem::temp_directory_path() / ("sunbeam-directory-header-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "subscribers.csv", std::ios::binary) << subscribers;
  const auto d = load_directory(DirectoryConfig{dir / "subscribers.csv", {}, {}}, config);
  std::filesystem::remove_all(dir);
  CHECK(d.directory.size() == 0);
  REQUIRE(d.problems.size() == 1);
  CHECK(d.problems[0].line == 1);
  CHECK(d.problems[0].what.find("header") != std::string::npos);
}
