// The generated subscriber rows of the directory benchmarks (bench_directory
// writes them to a CSV file, bench_micro loads them from memory): realistic
// and deterministic for a given seed, in the subscribers.csv format (SPEC §3).
#pragma once

#include <ostream>
#include <random>
#include <string>

namespace sunbeam::bench {

inline constexpr const char* subscribers_csv_header =
    "account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n";

// Account C<i>: 80% a Chinese name and zh-CN, 20% an English one and en; tiers
// advisor, research, basic as 1:1:3; a mainland mobile; c<i>@example.com; sms,
// email or both; 1 in 50 opted out of stock picks.
inline void write_subscriber_row(std::ostream& out, long i, std::mt19937_64& rng) {
  static const char* surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"};
  static const char* given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"};
  static const char* english[] = {"Alice Wong", "Brian Lee", "Carol Chen", "David Liu"};
  static const char* tiers[] = {"advisor", "research", "basic", "basic", "basic"};
  static const char* channels[] = {"sms", "email", "sms+email"};
  const bool en = rng() % 10 < 2;
  out << 'C' << i << ',';
  if (en) {
    out << english[rng() % 4];
  } else {
    out << surnames[rng() % 10];
    out << given[rng() % 10];
  }
  out << ',' << tiers[rng() % 5];
  out << ",13" << (100000000 + rng() % 900000000);
  out << ",c" << i << "@example.com," << (en ? "en" : "zh-CN");
  out << ',' << channels[rng() % 3];
  out << ",,," << (rng() % 50 == 0 ? "stock_pick" : "") << '\n';
}

}  // namespace sunbeam::bench
