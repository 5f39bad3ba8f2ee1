// The order in which a saturated connector sends (issue 3 item 3): urgent
// deliveries first, then by tier (the order of `tiers`, highest first), then
// first come first served. A connector whose token bucket is empty sends
// nothing; the queue decides who goes when a token comes.
//
// Thread safety: none; the owner locks.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

namespace sunbeam {

struct SendPriority {
  bool urgent = false;
  int tier_rank = 0;       // 0 = highest tier
  std::uint64_t seq = 0;   // arrival order

  // "Goes later than": what std::priority_queue needs to put the first on top.
  friend bool operator<(const SendPriority& a, const SendPriority& b) {
    if (a.urgent != b.urgent) return b.urgent;
    if (a.tier_rank != b.tier_rank) return a.tier_rank > b.tier_rank;
    return a.seq > b.seq;
  }
};

template <class T>
class SendQueue {
 public:
  void push(SendPriority priority, T item) {
    priority.seq = next_seq_++;
    heap_.push(Entry{priority, std::move(item)});
  }
  std::optional<T> pop() {
    if (heap_.empty()) return std::nullopt;
    // top() is const; the entry is moved out just before it is popped.
    T item = std::move(const_cast<Entry&>(heap_.top()).item);
    heap_.pop();
    return item;
  }
  // Removes and returns every item `pred` selects (an operator cancelled
  // their event), keeping the others in their order. O(n): rare.
  template <class Pred>
  std::vector<T> take_if(Pred pred) {
    std::vector<Entry> kept;
    std::vector<T> taken;
    while (!heap_.empty()) {
      Entry e = std::move(const_cast<Entry&>(heap_.top()));
      heap_.pop();
      if (pred(e.item)) taken.push_back(std::move(e.item));
      else kept.push_back(std::move(e));
    }
    for (auto& e : kept) heap_.push(std::move(e));
    return taken;
  }
  std::size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Entry {
    SendPriority priority;
    T item;
    friend bool operator<(const Entry& a, const Entry& b) { return a.priority < b.priority; }
  };
  std::priority_queue<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace sunbeam
