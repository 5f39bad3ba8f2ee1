#include "engine/directory/account_index.h"

#include <algorithm>
#include <array>

namespace sunbeam {
namespace {

std::uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

void AccountIndex::reserve(std::size_t n) {
  std::size_t capacity = 16;
  while (capacity < n * 2) capacity *= 2;  // load factor at most 1/2: short probes
  if (capacity > slots_.size() && size_ == 0) slots_.assign(capacity, Slot{});
}

void AccountIndex::renumber(std::span<const std::uint32_t> new_of_old) {
  for (Slot& s : slots_)
    if (s.index_plus_one) s.index_plus_one = new_of_old[s.index_plus_one - 1] + 1;
}

void AccountIndex::grow(const AccountOf& account_of) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.index_plus_one) continue;
    std::size_t at = hash_of(account_of(s.index_plus_one - 1)) & mask;
    while (slots_[at].index_plus_one) at = (at + 1) & mask;
    slots_[at] = s;
  }
}

std::optional<std::uint32_t> AccountIndex::insert(std::string_view account, std::uint32_t i,
                                                  const AccountOf& account_of) {
  if ((size_ + 1) * 2 > slots_.size()) grow(account_of);
  const auto h = hash_of(account);
  const auto bits = std::uint32_t(h >> 32);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = h & mask;; at = (at + 1) & mask) {
    Slot& s = slots_[at];
    if (!s.index_plus_one) {
      s = Slot{i + 1, bits};
      ++size_;
      return std::nullopt;
    }
    if (s.hash_bits == bits && account_of(s.index_plus_one - 1) == account) return s.index_plus_one - 1;
  }
}

std::optional<std::uint32_t> AccountIndex::find(std::string_view account, const AccountOf& account_of) const {
  if (slots_.empty()) return std::nullopt;
  return find_hashed(account, hash_of(account), account_of);
}

std::optional<std::uint32_t> AccountIndex::find_hashed(std::string_view account, std::uint64_t h,
                                                       const AccountOf& account_of) const {
  const auto bits = std::uint32_t(h >> 32);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = h & mask;; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (!s.index_plus_one) return std::nullopt;
    if (s.hash_bits == bits && account_of(s.index_plus_one - 1) == account) return s.index_plus_one - 1;
  }
}

void AccountIndex::find_many(std::span<const std::string_view> accounts, std::span<std::optional<std::uint32_t>> out,
                             const AccountOf& account_of, const std::function<void(std::uint32_t)>& prefetch) const {
  if (slots_.empty()) {
    std::fill(out.begin(), out.end(), std::nullopt);
    return;
  }
  const std::size_t mask = slots_.size() - 1;
  constexpr std::size_t most = 64;  // enough look-ups in flight to cover the latency, few enough to stay in L1
  std::array<std::uint64_t, most> hashes;
  for (std::size_t start = 0; start < accounts.size(); start += most) {
    const std::size_t n = std::min(most, accounts.size() - start);
    for (std::size_t k = 0; k < n; ++k) {
      hashes[k] = hash_of(accounts[start + k]);
      __builtin_prefetch(&slots_[hashes[k] & mask]);
    }
    for (std::size_t k = 0; k < n; ++k) {
      const Slot& s = slots_[hashes[k] & mask];
      if (s.index_plus_one && s.hash_bits == std::uint32_t(hashes[k] >> 32)) prefetch(s.index_plus_one - 1);
    }
    for (std::size_t k = 0; k < n; ++k) out[start + k] = find_hashed(accounts[start + k], hashes[k], account_of);
  }
}

}  // namespace sunbeam
