// The subscriber directory (SPEC §3): subscribers, their holdings and
// watchlists, with the indexes fanout needs: by account, by tier, by symbol.
//
// Loaded from CSV at start (a bad row is reported with its line and skipped
// whole, never half-loaded). Memory: one Subscriber per row in a vector, in
// account order (so are the tier, holder and watcher lists, and so fan-out's
// deliveries), a flat AccountIndex over it;
// holdings and watchlists as CSR indexes (symbol id -> offsets into one
// vector of subscriber indexes), symbols interned. 1,000,000 subscribers and
// 5,000,000 holdings: see bench/NOTES.md; current figures in bench/RESULTS.md.
//
// Immutable after loading; safe to read from many threads.
#pragma once

#include "config/config.h"
#include "config/problem.h"
#include "engine/directory/account_index.h"

#include <cstdint>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sunbeam {

using SubscriberIndex = std::uint32_t;

struct Subscriber {
  std::string account;
  std::string name;
  std::uint16_t tier = 0;       // index into Config::tiers (0 = highest)
  std::string mobile;           // normalised E.164 ("+8613812345678"), empty if none
  std::string email;            // empty if none
  std::string locale;           // "zh-CN", "en"; empty: the config default
  ChannelSet channels;          // what the customer chose
  std::optional<QuietHours> quiet_hours;  // empty: the config default
  std::string timezone;         // IANA; empty: the config default
  ChannelSet opt_out_channels;
  std::uint64_t opt_out_types = 0;  // bit i: Config::event_types[i] refused

  bool opted_out_of(std::size_t event_type_index) const {
    return event_type_index < 64 && (opt_out_types >> event_type_index) & 1u;
  }
};

class Directory {
 public:
  std::size_t size() const { return subscribers_.size(); }
  const Subscriber& at(SubscriberIndex i) const { return subscribers_[i]; }
  const Subscriber* find(std::string_view account) const;
  std::span<const SubscriberIndex> in_tier(std::size_t tier_index) const;
  std::span<const SubscriberIndex> holders(std::string_view symbol) const { return holdings_.of(symbol_id(symbol)); }
  std::span<const SubscriberIndex> watchers(std::string_view symbol) const { return watchlist_.of(symbol_id(symbol)); }
  std::size_t holdings_count() const { return holdings_.size(); }
  std::size_t watchlist_count() const { return watchlist_.size(); }

 private:
  friend class DirectoryBuilder;

  // symbol id -> subscribers, in compressed sparse row form.
  struct SymbolIndex {
    std::vector<std::uint32_t> offsets;  // size: symbols + 1
    std::vector<SubscriberIndex> members;
    std::span<const SubscriberIndex> of(std::optional<std::uint32_t> symbol) const;
    std::size_t size() const { return members.size(); }
  };
  std::optional<std::uint32_t> symbol_id(std::string_view symbol) const;

  std::vector<Subscriber> subscribers_;
  std::string_view account_of(SubscriberIndex i) const { return subscribers_[i].account; }
  AccountIndex accounts_;
  std::vector<std::vector<SubscriberIndex>> by_tier_;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string_view, std::uint32_t> symbol_ids_;    // views into symbols_
  SymbolIndex holdings_;
  SymbolIndex watchlist_;
};

struct DirectoryLoad {
  Directory directory;
  std::vector<Problem> problems;
};

// Reads the files named in `files` (holdings and watchlist optional). A large
// file is cut into parts (split_csv) read on as many threads as the machine
// has, up to 8; the directory and the problems are the same as one reader's.
DirectoryLoad load_directory(const DirectoryConfig& files, const Config& config);

// The same from streams, for tests and imports; `name` is used in problems.
struct DirectorySources {
  std::istream* subscribers = nullptr;
  std::string subscribers_name = "subscribers.csv";
  std::istream* holdings = nullptr;
  std::string holdings_name = "holdings.csv";
  std::istream* watchlist = nullptr;
  std::string watchlist_name = "watchlist.csv";
  // Each file's line count when known (0: unknown), an upper bound on its
  // rows: the builder then reserves once rather than growing its vectors and
  // the account index, which was a fifth of a 10M load (bench/NOTES.md).
  std::size_t subscribers_lines = 0, holdings_lines = 0, watchlist_lines = 0;
};
DirectoryLoad load_directory(const DirectorySources& sources, const Config& config);

}  // namespace sunbeam
