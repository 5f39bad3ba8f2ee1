#include "engine/directory/directory.h"

#include "engine/directory/csv_reader.h"
#include "engine/directory/csv_split.h"

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace sunbeam {

const Subscriber* Directory::find(std::string_view account) const {
  const auto i = accounts_.find(account, [this](SubscriberIndex n) { return account_of(n); });
  return i ? &subscribers_[*i] : nullptr;
}

std::span<const SubscriberIndex> Directory::in_tier(std::size_t tier_index) const {
  if (tier_index >= by_tier_.size()) return {};
  return by_tier_[tier_index];
}

std::optional<std::uint32_t> Directory::symbol_id(std::string_view symbol) const {
  const auto it = symbol_ids_.find(symbol);
  if (it == symbol_ids_.end()) return std::nullopt;
  return it->second;
}

std::span<const SubscriberIndex> Directory::SymbolIndex::of(std::optional<std::uint32_t> symbol) const {
  if (!symbol || *symbol + 1 >= offsets.size()) return {};
  return std::span<const SubscriberIndex>(members.data() + offsets[*symbol], offsets[*symbol + 1] - offsets[*symbol]);
}

namespace {

constexpr std::array subscriber_columns{"account_id", "name",        "tier",     "mobile",  "email",
                                        "locale",     "channels",    "quiet_hours", "timezone", "opt_out"};
constexpr std::array pair_columns{"account_id", "symbol"};  // holdings and watchlist
constexpr std::array known_locales{"zh-CN", "en"};

bool valid_account(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// E.164 ("+" and 8-15 digits) or an 11-digit mainland mobile starting with 1.
std::optional<std::string> normalise_mobile(std::string_view s) {
  if (s.starts_with('+') && s.size() >= 9 && s.size() <= 16 && all_digits(s.substr(1))) return std::string(s);
  if (s.size() == 11 && s.front() == '1' && all_digits(s)) return "+86" + std::string(s);
  return std::nullopt;
}

bool valid_email(std::string_view s) {
  if (s.size() > 254) return false;
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0' || c == ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"')
      return false;
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 2 <= domain.size();
}

// 600519.SH: a code of letters and digits, a dot, an upper-case exchange suffix.
bool valid_symbol(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return false;
  const auto code = s.substr(0, dot), ex = s.substr(dot + 1);
  return std::all_of(code.begin(), code.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }) &&
         ex.size() >= 2 && ex.size() <= 4 && std::all_of(ex.begin(), ex.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool known_timezone(const std::string& tz) {
  std::error_code ec;
  return tz.find("..") == std::string::npos && std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec);
}

std::string join_tiers(const Config& c) {
  std::string out;
  for (const auto& t : c.tiers) out += (out.empty() ? "" : ", ") + t;
  return out;
}

// Frees a vector's memory now. (`v = {}` would not: it assigns an empty
// initializer list and keeps the capacity.)
template <class Vector>
void release(Vector& v) {
  Vector().swap(v);
}

// (symbol id, subscriber) rows of a holdings or watchlist file: 50,000,000 of them at 10M.
using SymbolPairs = std::vector<std::pair<std::uint32_t, SubscriberIndex>>;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A file mapped read-only into memory (Boost.Interprocess), so that it can
// be cut into parts read by several threads; not ok() for a file that cannot
// be mapped (an empty file, a pipe), which is then read as a stream.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) {
    try {
      file_ = boost::interprocess::file_mapping(path.c_str(), boost::interprocess::read_only);
      // MAP_POPULATE: the pages are mapped in one go, not faulted in one by one as the scan reaches them.
      region_ = boost::interprocess::mapped_region(file_, boost::interprocess::read_only, 0, 0, nullptr, MAP_POPULATE);
    } catch (const boost::interprocess::interprocess_exception&) {
      region_ = {};
    }
  }
  bool ok() const { return region_.get_size() > 0; }
  std::string_view text() const { return {static_cast<const char*>(region_.get_address()), region_.get_size()}; }

 private:
  boost::interprocess::file_mapping file_;
  boost::interprocess::mapped_region region_;
};

}  // namespace

// Builds a Directory row by row; each row is validated whole before anything
// of it is kept, so a bad row is skipped entirely.
class DirectoryBuilder {
 public:
  DirectoryBuilder(const Config& config, std::vector<Problem>& problems) : config_(config), problems_(problems) {
    dir_.by_tier_.resize(config.tiers.size());
  }

  // The subscribers file from a stream, on this thread. `lines_hint`, when
  // known, spares growing the subscribers' slots.
  void read_subscribers(std::istream& in, const std::string& name, std::size_t lines_hint) {
    CsvReader csv(in);
    if (!header(csv, name, subscriber_columns)) return;
    if (lines_hint > 1) {
      dir_.subscribers_.resize(lines_hint - 1);
      placed_.resize(lines_hint - 1);
    }
    std::vector<SubscribersPart> parts(1);
    parts[0].may_grow = true;
    read_subscribers_part(csv, name, parts[0]);
    settle_subscribers(name, parts);
  }

  // The same from a file cut into parts read at the same time (split_csv):
  // parsing and checking the rows is most of the subscribers' load. Each
  // record goes to the slot of the line it starts on, so the parts need not
  // know how many records came before theirs; duplicates are found after, in
  // file order, and the problems come out in line order as from one reader.
  void read_subscribers(const std::filesystem::path& path, const CsvSplit& split) {
    const std::string name = path.string();
    dir_.subscribers_.resize(split.lines - 1);
    placed_.resize(split.lines - 1);
    std::vector<SubscribersPart> parts(split.parts.size());
    if (read_in_parts(path, split, [&](CsvReader& csv) { return header(csv, name, subscriber_columns); },
                      [&](CsvReader& csv, std::size_t i) { read_subscribers_part(csv, name, parts[i]); })) {
      settle_subscribers(name, parts);
    } else {  // a wrong header: nothing loads, and the slots' memory goes back
      release(dir_.subscribers_);
      release(placed_);
    }
  }

  // A holdings or watchlist file (`account_id,symbol` rows) from a stream,
  // on this thread: tests, imports, a file that cannot be mapped.
  void read_pairs(std::istream& in, const std::string& name, std::size_t lines_hint, std::vector<SymbolPairs>& out) {
    CsvReader csv(in);
    if (!header(csv, name, pair_columns)) return;
    PairsPart part;
    read_pairs_part(csv, name, lines_hint, part);
    merge(part, out);
  }

  // The same from a file cut at record boundaries (split_csv) into parts read
  // at the same time, each through its own stream: holdings are most of a
  // large directory (50,000,000 rows at 10M; bench/NOTES.md), and reading
  // them only reads what the subscribers file built. Problems are still
  // reported in line order.
  void read_pairs(const std::filesystem::path& path, const CsvSplit& split, std::vector<SymbolPairs>& out) {
    const std::string name = path.string();
    const auto lines = [&](std::size_t i) {  // an upper bound on part i's records
      const int next = i + 1 < split.parts.size() ? split.parts[i + 1].first_line : int(split.lines);
      return std::size_t(next - split.parts[i].first_line + 1);
    };
    std::vector<PairsPart> parts(split.parts.size());
    if (!read_in_parts(path, split, [&](CsvReader& csv) { return header(csv, name, pair_columns); },
                       [&](CsvReader& csv, std::size_t i) { read_pairs_part(csv, name, lines(i), parts[i]); }))
      return;
    for (auto& part : parts) merge(part, out);
  }

  Directory finish(std::vector<SymbolPairs>& holdings, std::vector<SymbolPairs>& watchlist) {
    build_index(holdings, dir_.holdings_);
    build_index(watchlist, dir_.watchlist_);
    dir_.symbol_ids_.reserve(dir_.symbols_.size());
    for (std::uint32_t i = 0; i < dir_.symbols_.size(); ++i) dir_.symbol_ids_.emplace(dir_.symbols_[i], i);
    return std::move(dir_);
  }

 private:
  template <std::size_t N>
  static bool header_is(const std::vector<std::string>& f, const std::array<const char*, N>& want) {
    if (f.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
      if (f[i] != want[i]) return false;
    return true;
  }
  template <std::size_t N>
  static std::string join(const std::array<const char*, N>& names) {
    std::string out;
    for (auto n : names) out += (out.empty() ? "" : ",") + std::string(n);
    return out;
  }

  void problem(const std::string& file, int line, std::string what) { problems_.push_back({file, line, std::move(what)}); }

  // Reads a file's parts (split_csv) at the same time, each through a stream
  // of its own: part 0 on this thread once `header` has accepted its first
  // record (if not, nothing is read and the answer is false), the others on
  // threads of their own. `read_part(csv, i)` must touch only part i's share.
  template <class Header, class ReadPart>
  static bool read_in_parts(const std::filesystem::path& path, const CsvSplit& split, const Header& header,
                            const ReadPart& read_part) {
    const auto open = [&](std::size_t i) {
      std::ifstream in(path, std::ios::binary);
      in.seekg(std::streamoff(split.parts[i].begin));
      return in;
    };
    std::ifstream head = open(0);
    CsvReader first(head, 1, split.parts[0].end);
    if (!head || !header(first)) return false;
    std::vector<std::exception_ptr> failed(split.parts.size());  // (bad_alloc) rethrown here, not in a thread
    {
      std::vector<std::jthread> readers;
      for (std::size_t i = 1; i < split.parts.size(); ++i)
        readers.emplace_back([&, i] {
          try {
            std::ifstream in = open(i);
            CsvReader csv(in, split.parts[i].first_line, split.parts[i].end - split.parts[i].begin);
            read_part(csv, i);
          } catch (...) {
            failed[i] = std::current_exception();
          }
        });
      read_part(first, 0);
    }
    for (const auto& e : failed)
      if (e) std::rethrow_exception(e);
    return true;
  }

  // Reads a file's first record; unless it is exactly `columns`, reports it on line 1.
  template <std::size_t N>
  bool header(CsvReader& csv, const std::string& name, const std::array<const char*, N>& columns) {
    std::vector<std::string> f;
    if (csv.next(f) && header_is(f, columns)) return true;
    problem(name, 1, "the header must be " + join(columns));
    return false;
  }

  // What one reader of a subscribers file found besides the rows it placed.
  struct SubscribersPart {
    std::vector<Problem> problems;
    std::unordered_map<std::string, bool> zones;  // zone_known's answers
    bool may_grow = false;  // the only reader: may grow the slots
  };

  // Reads rows after the header; each good one goes to the slot of the line
  // it starts on (line 2 is slot 0). Parts write different slots, so they can
  // be read on several threads at once.
  void read_subscribers_part(CsvReader& csv, const std::string& name, SubscribersPart& part) {
    std::vector<std::string> f;
    const auto problem = [&](int line, std::string what) { part.problems.push_back({name, line, std::move(what)}); };
    while (csv.next(f)) {
      if (f.size() == 1 && f[0].empty()) continue;  // blank line
      if (!csv.error().empty()) {
        problem(csv.line(), csv.error() + "; row skipped");
        continue;
      }
      if (f.size() != subscriber_columns.size()) {
        problem(csv.line(), "expected " + std::to_string(subscriber_columns.size()) + " fields, found " +
                                std::to_string(f.size()) + "; row skipped");
        continue;
      }
      auto s = subscriber_row(f, name, csv.line(), part);
      if (!s) continue;
      const auto slot = std::size_t(csv.line() - 2);
      if (slot >= placed_.size() && part.may_grow) {
        dir_.subscribers_.resize(std::max(slot + 1, placed_.size() * 2));
        placed_.resize(dir_.subscribers_.size());
      }
      dir_.subscribers_[slot] = std::move(*s);
      placed_[slot] = 1;
    }
  }

  // After every part is read: the accounts indexed in file order (a repeat
  // is reported against the line that came first, and dropped), the slots
  // closed up, the problems merged into line order, the tiers listed, and
  // the subscribers put in account order.
  void settle_subscribers(const std::string& name, std::vector<SubscribersPart>& parts) {
    auto& subs = dir_.subscribers_;
    const std::size_t slots = placed_.size();
    dir_.accounts_.reserve(slots);
    std::vector<Problem> repeats;
    const auto account_of = [this](SubscriberIndex n) { return dir_.account_of(n); };
    for (std::size_t slot = 0; slot < slots; ++slot) {
      if (!placed_[slot]) continue;
      if (const auto first = dir_.accounts_.insert(subs[slot].account, SubscriberIndex(slot), account_of)) {
        repeats.push_back({name, int(slot + 2), "account " + subs[slot].account + " already appears on line " +
                                                    std::to_string(*first + 2) + "; row skipped"});
        placed_[slot] = 0;
      }
    }
    std::vector<Problem> found;
    for (auto& part : parts) std::move(part.problems.begin(), part.problems.end(), std::back_inserter(found));
    std::merge(std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()),
               std::make_move_iterator(repeats.begin()), std::make_move_iterator(repeats.end()),
               std::back_inserter(problems_), [](const Problem& a, const Problem& b) { return a.line < b.line; });
    // Close up the empty slots (the lines of bad rows, blank lines, records
    // spanning lines), renumbering the accounts' entries to match.
    std::vector<SubscriberIndex> new_of_old(slots);
    std::size_t n = 0;
    for (std::size_t slot = 0; slot < slots; ++slot) {
      if (!placed_[slot]) continue;
      if (slot != n) subs[n] = std::move(subs[slot]);
      new_of_old[slot] = SubscriberIndex(n++);
    }
    if (n != slots) dir_.accounts_.renumber(new_of_old);
    release(new_of_old);
    release(placed_);
    subs.resize(n);
    for (std::size_t k = 0; k < n; ++k) dir_.by_tier_[subs[k].tier].push_back(SubscriberIndex(k));
    order_by_account();
  }

  // A part of a holdings or watchlist file as one reader saw it. Its symbols
  // are numbered in the part's own order until merge() interns them.
  struct PairsPart {
    SymbolPairs pairs;  // (the part's symbol number, subscriber)
    std::vector<std::string> symbols;
    std::unordered_map<std::string, std::uint32_t> numbers;  // symbol -> its number in `symbols`
    std::vector<Problem> problems;

    std::uint32_t number(const std::string& symbol) {
      const auto [it, inserted] = numbers.try_emplace(symbol, std::uint32_t(symbols.size()));
      if (inserted) symbols.push_back(symbol);
      return it->second;
    }
  };

  // Reads rows after the header into `out`; const, so parts can be read on
  // several threads at once. Rows are read in batches and their accounts
  // looked up together (find_many: a holdings file names accounts in no
  // order, so each look-up one at a time waits on memory).
  void read_pairs_part(CsvReader& csv, const std::string& name, std::size_t lines_hint, PairsPart& out) const {
    const auto problem = [&](int line, std::string what) { out.problems.push_back({name, line, std::move(what)}); };
    out.pairs.reserve(lines_hint);
    constexpr std::size_t batch_size = 256;
    struct Row {
      std::string account, symbol;
      int line = 0;
    };
    std::vector<Row> rows(batch_size);
    std::vector<std::string_view> accounts(batch_size);
    std::vector<std::optional<SubscriberIndex>> found(batch_size);
    std::size_t n = 0;
    const auto account_of = [this](SubscriberIndex i) { return dir_.account_of(i); };
    const auto prefetch = [this](SubscriberIndex i) { __builtin_prefetch(&dir_.subscribers_[i].account); };
    const auto resolve = [&] {
      for (std::size_t k = 0; k < n; ++k) accounts[k] = rows[k].account;
      dir_.accounts_.find_many(std::span(accounts.data(), n), std::span(found.data(), n), account_of, prefetch);
      for (std::size_t k = 0; k < n; ++k) {
        const Row& r = rows[k];
        if (!found[k]) problem(r.line, "account \"" + r.account + "\" is not in the subscribers file; row skipped");
        else if (!valid_symbol(r.symbol))
          problem(r.line, "\"" + r.symbol + "\" is not a security code like 600519.SH; row skipped");
        else out.pairs.emplace_back(out.number(r.symbol), *found[k]);
      }
      n = 0;
    };
    std::vector<std::string> f;
    while (csv.next(f)) {
      if (f.size() == 1 && f[0].empty()) continue;
      if (!csv.error().empty() || f.size() != 2) {
        resolve();
        problem(csv.line(), (csv.error().empty() ? "expected 2 fields" : csv.error()) + "; row skipped");
        continue;
      }
      rows[n].account.swap(f[0]);
      rows[n].symbol.swap(f[1]);
      rows[n].line = csv.line();
      if (++n == batch_size) resolve();
    }
    resolve();
  }

  // Takes a part's problems and pairs, its symbols numbered as the directory numbers them.
  void merge(PairsPart& part, std::vector<SymbolPairs>& out) {
    std::move(part.problems.begin(), part.problems.end(), std::back_inserter(problems_));
    std::vector<std::uint32_t> ids(part.symbols.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = intern(part.symbols[i]);
    for (auto& pair : part.pairs) pair.first = ids[pair.first];
    out.push_back(std::move(part.pairs));
  }

  std::optional<Subscriber> subscriber_row(std::vector<std::string>& f, const std::string& file, int line,
                                           SubscribersPart& part) const {
    const auto bad = [&](std::string what) -> std::optional<Subscriber> {
      part.problems.push_back({file, line, what + "; row skipped"});
      return std::nullopt;
    };
    Subscriber s;
    if (!valid_account(f[0])) return bad("account_id \"" + f[0] + "\" must be 1-64 characters of A-Z a-z 0-9 . _ : -");
    s.account = std::move(f[0]);
    s.name = std::move(f[1]);
    const auto tier = config_.tier_index(f[2]);
    if (!tier) return bad("tier \"" + f[2] + "\" is not one of " + join_tiers(config_));
    s.tier = std::uint16_t(*tier);
    if (!f[3].empty()) {
      auto m = normalise_mobile(f[3]);
      if (!m) return bad("mobile \"" + f[3] + "\" is neither E.164 (+8613812345678) nor an 11-digit mainland number");
      s.mobile = std::move(*m);
    }
    if (!f[4].empty()) {
      if (!valid_email(f[4])) return bad("email \"" + f[4] + "\" is not a valid address");
      s.email = std::move(f[4]);
    }
    if (!f[5].empty() && std::find(known_locales.begin(), known_locales.end(), f[5]) == known_locales.end())
      return bad("locale \"" + f[5] + "\" is not one of zh-CN, en (or empty for the default)");
    s.locale = std::move(f[5]);
    if (f[6] == "sms") s.channels = {Channel::sms};
    else if (f[6] == "email") s.channels = {Channel::email};
    else if (f[6] == "sms+email" || f[6] == "email+sms") s.channels = {Channel::sms, Channel::email};
    else return bad("channels \"" + f[6] + "\" must be sms, email or sms+email");
    if (s.channels.contains(Channel::sms) && s.mobile.empty()) return bad("channels include sms but there is no mobile");
    if (s.channels.contains(Channel::email) && s.email.empty()) return bad("channels include email but there is no email");
    if (!f[7].empty()) {
      s.quiet_hours = parse_quiet_hours(f[7]);
      if (!s.quiet_hours) return bad("quiet_hours \"" + f[7] + "\" is not a window like 21:30-08:00");
    }
    if (!f[8].empty() && !zone_known(f[8], part.zones)) return bad("timezone \"" + f[8] + "\" is not an IANA zone like Asia/Shanghai");
    s.timezone = std::move(f[8]);
    if (!f[9].empty()) {
      for (auto item : split(f[9], ';')) {
        if (item.empty()) continue;
        if (auto c = parse_channel(item)) {
          s.opt_out_channels.add(*c);
        } else if (const auto* t = config_.event_type(item)) {
          s.opt_out_types |= std::uint64_t(1) << std::size_t(t - config_.event_types.data());
        } else {
          return bad("opt_out \"" + std::string(item) + "\" is neither a channel nor a configured event type");
        }
      }
    }
    return s;
  }

  // known_timezone asks the file system; a directory names a few zones, on
  // up to millions of rows, so each zone is asked about once (a file of
  // thousands of different bad zones is asked about each time after the first 1,024).
  static bool zone_known(const std::string& tz, std::unordered_map<std::string, bool>& known) {
    if (known.size() >= 1024 && !known.contains(tz)) return known_timezone(tz);
    const auto [it, inserted] = known.try_emplace(tz, false);
    if (inserted) it->second = known_timezone(tz);
    return it->second;
  }

  // Numbers the subscribers in account order, so every list built from the
  // numbers (tiers, holders, watchers) is in account order and fan-out plans
  // an event's deliveries that way: dispatch's ledger and the status index
  // are keyed by (event, account, channel), and rows arriving in key order go
  // to a few pages per commit instead of one page at random each (bench/NOTES.md).
  // A file already in account order (a usual export) is left as it is.
  void order_by_account() {
    auto& subs = dir_.subscribers_;
    const auto by_account = [](const Subscriber& a, const Subscriber& b) { return a.account < b.account; };
    if (std::is_sorted(subs.begin(), subs.end(), by_account)) return;
    // Sorted by the accounts' first 8 bytes first (integers, in one array),
    // the whole accounts compared only on a tie: comparing the strings in
    // place read a record at random per comparison.
    const auto n = subs.size();
    std::vector<std::pair<std::uint64_t, SubscriberIndex>> order(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t prefix = 0;
      const auto& a = subs[i].account;
      for (std::size_t k = 0; k < 8; ++k) prefix = prefix << 8 | (k < a.size() ? std::uint8_t(a[k]) : 0);
      order[i] = {prefix, SubscriberIndex(i)};
    }
    std::sort(order.begin(), order.end(), [&](const auto& x, const auto& y) {
      if (x.first != y.first) return x.first < y.first;
      return subs[x.second].account < subs[y.second].account;
    });
    std::vector<SubscriberIndex> new_of_old(n), old_of_new(n);
    for (std::size_t k = 0; k < n; ++k) {
      old_of_new[k] = order[k].second;
      new_of_old[order[k].second] = SubscriberIndex(k);
    }
    release(order);
    dir_.accounts_.renumber(new_of_old);
    release(new_of_old);
    // Moved in place, cycle by cycle (a sorted copy would hold two directories
    // at once: 10,000,000 subscribers are ~2.4 GB). Each step of a cycle reads
    // a record at random; the records a few steps ahead are prefetched so
    // those reads overlap (one at a time, the moves took 7 s of a 10M load).
    constexpr int ahead_steps = 16;
    const auto prefetch = [&](std::size_t i) {
      const char* p = reinterpret_cast<const char*>(&subs[i]);
      for (std::size_t b = 0; b < sizeof(Subscriber); b += 64) __builtin_prefetch(p + b);
    };
    for (std::size_t k = 0; k < n; ++k) {
      if (old_of_new[k] == k) continue;  // in place, or placed by an earlier cycle
      Subscriber held = std::move(subs[k]);
      std::size_t at = k, ahead = k;
      for (int step = 0; step < ahead_steps && (ahead = old_of_new[ahead]) != k; ++step) prefetch(ahead);
      for (;;) {
        const std::size_t from = old_of_new[at];
        old_of_new[at] = SubscriberIndex(at);
        if (from == k) {
          subs[at] = std::move(held);
          break;
        }
        subs[at] = std::move(subs[from]);
        at = from;
        if (ahead != k && (ahead = old_of_new[ahead]) != k) prefetch(ahead);
      }
    }
    for (auto& tier : dir_.by_tier_) tier.clear();
    for (std::size_t k = 0; k < n; ++k) dir_.by_tier_[subs[k].tier].push_back(SubscriberIndex(k));
  }

  std::uint32_t intern(const std::string& symbol) {
    const auto [it, inserted] = interned_.try_emplace(symbol, std::uint32_t(dir_.symbols_.size()));
    if (inserted) dir_.symbols_.push_back(symbol);
    return it->second;
  }

  // Lays (symbol, subscriber) pairs out as CSR, each symbol's members sorted
  // and without repeats. A counting sort by symbol (linear) and then a sort of
  // each symbol's few members: std::sort of all 50M pairs at once was 7% of a
  // 10M load.
  void build_index(std::vector<SymbolPairs>& parts, Directory::SymbolIndex& index) {
    const std::size_t symbols = dir_.symbols_.size();
    std::vector<std::uint32_t> next(symbols + 1, 0);
    std::size_t total = 0;
    for (const auto& pairs : parts) {
      for (const auto& [symbol, who] : pairs) ++next[symbol + 1];
      total += pairs.size();
    }
    for (std::size_t i = 1; i <= symbols; ++i) next[i] += next[i - 1];
    index.offsets = next;  // where each symbol's members start
    index.members.resize(total);
    for (auto& pairs : parts) {
      for (const auto& [symbol, who] : pairs) index.members[next[symbol]++] = who;
      release(pairs);
    }
    // Sort and deduplicate each symbol's run, moving it down over the repeats removed before it.
    std::size_t kept = 0;
    for (std::size_t s = 0; s < symbols; ++s) {
      const auto first = index.members.begin() + index.offsets[s], last = index.members.begin() + index.offsets[s + 1];
      std::sort(first, last);
      const auto end = std::unique(first, last);
      index.offsets[s] = std::uint32_t(kept);
      kept = std::size_t(std::move(first, end, index.members.begin() + kept) - index.members.begin());
    }
    index.offsets[symbols] = std::uint32_t(kept);
    index.members.resize(kept);
    index.members.shrink_to_fit();
  }

  const Config& config_;
  std::vector<Problem>& problems_;
  Directory dir_;
  std::vector<std::uint8_t> placed_;  // slot i (line i + 2) holds a good row; bytes, so threads write apart
  std::unordered_map<std::string, std::uint32_t> interned_;
};

DirectoryLoad load_directory(const DirectorySources& sources, const Config& config) {
  DirectoryLoad out;
  DirectoryBuilder builder(config, out.problems);
  std::vector<SymbolPairs> holdings, watchlist;
  if (sources.subscribers) builder.read_subscribers(*sources.subscribers, sources.subscribers_name, sources.subscribers_lines);
  if (sources.holdings) builder.read_pairs(*sources.holdings, sources.holdings_name, sources.holdings_lines, holdings);
  if (sources.watchlist) builder.read_pairs(*sources.watchlist, sources.watchlist_name, sources.watchlist_lines, watchlist);
  out.directory = builder.finish(holdings, watchlist);
  return out;
}

DirectoryLoad load_directory(const DirectoryConfig& files, const Config& config) {
  DirectoryLoad out;
  std::vector<Problem> unreadable;
  const auto readable = [&](const std::filesystem::path& path) {
    if (path.empty()) return false;
    if (std::ifstream(path, std::ios::binary)) return true;
    unreadable.push_back({path.string(), 0, "cannot read the file"});
    return false;
  };
  const bool subscribers = readable(files.subscribers), holdings = readable(files.holdings),
             watchlist = readable(files.watchlist);
  // Every file is cut into parts first, while little else is in memory: the
  // scan maps the whole file, and its pages count in the load's peak RSS
  // until it is unmapped. A file that cannot be mapped (an empty one) is
  // read as one stream, its line count unknown (0): the stream path grows.
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
  const auto cut = [&](bool ok, const std::filesystem::path& path) {
    if (!ok) return std::optional<CsvSplit>();
    const MappedFile mapped(path);
    return mapped.ok() ? std::optional(split_csv(mapped.text(), threads)) : std::nullopt;
  };
  const auto subscribers_split = cut(subscribers, files.subscribers), holdings_split = cut(holdings, files.holdings),
             watchlist_split = cut(watchlist, files.watchlist);

  DirectoryBuilder builder(config, out.problems);
  if (subscribers_split) {
    builder.read_subscribers(files.subscribers, *subscribers_split);
  } else if (subscribers) {
    std::ifstream in(files.subscribers, std::ios::binary);
    builder.read_subscribers(in, files.subscribers.string(), 0);
  }
  std::vector<SymbolPairs> holdings_pairs, watchlist_pairs;
  const auto pairs = [&](bool ok, const std::filesystem::path& path, const std::optional<CsvSplit>& split,
                         std::vector<SymbolPairs>& into) {
    if (!ok) return;
    if (split) return builder.read_pairs(path, *split, into);
    std::ifstream in(path, std::ios::binary);
    builder.read_pairs(in, path.string(), 0, into);
  };
  pairs(holdings, files.holdings, holdings_split, holdings_pairs);
  pairs(watchlist, files.watchlist, watchlist_split, watchlist_pairs);
  out.directory = builder.finish(holdings_pairs, watchlist_pairs);
  out.problems.insert(out.problems.begin(), unreadable.begin(), unreadable.end());
  return out;
}

}  // namespace sunbeam
