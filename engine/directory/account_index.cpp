#include "engine/directory/account_index.h"

namespace sunbeam {
namespace {

std::uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

void AccountIndex::reserve(std::size_t n) {
  std::size_t capacity = 16;
  while (capacity < n * 2) capacity *= 2;  // load factor at most 1/2: short probes
  if (capacity > slots_.size() && size_ == 0) slots_.assign(capacity, Slot{});
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
  const auto h = hash_of(account);
  const auto bits = std::uint32_t(h >> 32);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = h & mask;; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (!s.index_plus_one) return std::nullopt;
    if (s.hash_bits == bits && account_of(s.index_plus_one - 1) == account) return s.index_plus_one - 1;
  }
}

}  // namespace sunbeam
