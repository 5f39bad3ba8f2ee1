// Answers that wait for the engine to catch up (a cancel answers once the
// event's deliveries have settled): each check runs every 100 ms on one
// thread of its own, never on the HTTP thread, until it says it answered or
// its deadline passes (then it is called a last time with `last = true` and
// must answer). stop() gives every waiting check its last call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sunbeam {

class AnswerLater {
 public:
  using Check = std::function<bool(bool last)>;  // true: answered

  AnswerLater();
  ~AnswerLater();
  AnswerLater(const AnswerLater&) = delete;
  AnswerLater& operator=(const AnswerLater&) = delete;

  void add(Check check, std::chrono::milliseconds within);
  void stop();

 private:
  struct Pending {
    Check check;
    std::chrono::steady_clock::time_point deadline;
  };
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sunbeam
