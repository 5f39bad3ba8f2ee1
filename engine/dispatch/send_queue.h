// The order in which a saturated connector sends (issue 3 item 3): urgent
// deliveries first, then by tier (the order of `tiers`, highest first), then
// first come first served. A connector whose token bucket is empty sends
// nothing; the queue decides who goes when a token comes.
//
// Thread safety: none; the owner locks.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace sunbeam {

struct SendPriority {
  bool urgent = false;
  int tier_rank = 0;  // 0 = highest tier
};

// One first-come-first-served line per (urgent, tier) class, the classes in
// the order they go: a push and a pop move an item once. (A binary heap of
// the items, as before, moved each of them log2(n) times a pop: with
// deliveries of a few hundred bytes and thousands queued, 5% of dispatch.)
template <class T>
class SendQueue {
 public:
  void push(SendPriority priority, T item) {
    lines_[Class{!priority.urgent, priority.tier_rank}].push_back(std::move(item));
    ++size_;
  }
  std::optional<T> pop() {
    if (size_ == 0) return std::nullopt;
    auto first = lines_.begin();  // never an empty line: emptied ones are erased
    T item = std::move(first->second.front());
    first->second.pop_front();
    if (first->second.empty()) lines_.erase(first);
    --size_;
    return item;
  }
  // Removes and returns every item `pred` selects (an operator cancelled
  // their event), keeping the others in their order. O(n): rare.
  template <class Pred>
  std::vector<T> take_if(Pred pred) {
    std::vector<T> taken;
    for (auto line = lines_.begin(); line != lines_.end();) {
      std::deque<T> kept;
      for (auto& item : line->second) {
        if (pred(item)) taken.push_back(std::move(item));
        else kept.push_back(std::move(item));
      }
      size_ -= line->second.size() - kept.size();
      if (kept.empty()) {
        line = lines_.erase(line);
      } else {
        line->second = std::move(kept);
        ++line;
      }
    }
    return taken;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  using Class = std::pair<bool, int>;  // (not urgent, tier rank): the smallest goes first
  std::map<Class, std::deque<T>> lines_;
  std::size_t size_ = 0;
};

}  // namespace sunbeam
