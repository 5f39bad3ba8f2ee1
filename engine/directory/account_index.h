// Account id -> subscriber number, as a flat open-addressing table.
//
// Written by hand because the directory's load time was 53% std::unordered_map
// look-ups (bench/NOTES.md): a node-based map costs a bucket, a node and the
// key, three random memory accesses per holding row. Here a probe reads one
// 8-byte slot (the subscriber number and 32 bits of the key's hash) and touches
// the subscriber's record only when those 32 bits match.
//
// Not thread-safe while inserting; read-only use from many threads is fine.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

class AccountIndex {
 public:
  // `account_of(i)` gives the account id of subscriber i; the index stores only numbers.
  using AccountOf = std::function<std::string_view(std::uint32_t)>;

  void reserve(std::size_t n);
  // Adds subscriber `i` under `account`; if the account is present already,
  // returns the number it has and adds nothing.
  std::optional<std::uint32_t> insert(std::string_view account, std::uint32_t i, const AccountOf& account_of);
  std::optional<std::uint32_t> find(std::string_view account, const AccountOf& account_of) const;
  // The subscribers were reordered: subscriber i is now `new_of_old[i]`. The
  // accounts and so the slots stay where they are; only the numbers change.
  void renumber(std::span<const std::uint32_t> new_of_old);
  // find() for many accounts at once, with their memory accesses overlapped:
  // each look-up is two cache misses in a row (the slot, then the record whose
  // account it compares), and a holdings file names accounts in no order, so
  // one at a time the load waits on memory (42% of a 10M load, bench/NOTES.md).
  // Slots are prefetched first, then `prefetch(i)` is asked to fetch record i
  // for every slot whose hash bits match, then each look-up runs from cache.
  void find_many(std::span<const std::string_view> accounts, std::span<std::optional<std::uint32_t>> out,
                 const AccountOf& account_of, const std::function<void(std::uint32_t)>& prefetch) const;

 private:
  struct Slot {
    std::uint32_t index_plus_one = 0;  // 0: empty
    std::uint32_t hash_bits = 0;
  };
  void grow(const AccountOf& account_of);
  std::optional<std::uint32_t> find_hashed(std::string_view account, std::uint64_t hash, const AccountOf& account_of) const;
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace sunbeam
