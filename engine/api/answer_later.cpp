#include "engine/api/answer_later.h"

namespace sunbeam {

using namespace std::chrono_literals;

AnswerLater::AnswerLater() : thread_([this] { run(); }) {}

AnswerLater::~AnswerLater() { stop(); }

void AnswerLater::add(Check check, std::chrono::milliseconds within) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back({std::move(check), std::chrono::steady_clock::now() + within});
      return;
    }
  }
  check(true);
}

void AnswerLater::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AnswerLater::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, 100ms, [&] { return stopping_; });
    auto batch = std::move(pending_);
    pending_.clear();
    const bool stopping = stopping_;
    lock.unlock();
    std::vector<Pending> still;
    const auto now = std::chrono::steady_clock::now();
    for (auto& p : batch)
      if (!p.check(stopping || now >= p.deadline)) still.push_back(std::move(p));
    lock.lock();
    for (auto& p : still) pending_.push_back(std::move(p));
    if (stopping) return;
  }
}

}  // namespace sunbeam
