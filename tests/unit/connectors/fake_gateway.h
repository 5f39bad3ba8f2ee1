// Stand-in gateways for the HTTP connectors' unit tests, in-process:
// - FakeGateway: the project's Beast server with routes the test sets, which
//   records every request, counts requests in flight, and can hold answers
//   (to make a client time out) or gate them (to see concurrency reached);
// - Hangup: a raw socket that accepts, reads the request and closes without
//   answering (a gateway that drops the connection);
// - refused_port(): a port nobody listens on.
// All bind 127.0.0.1; every wait is bounded.
#pragma once

#include "connectors/connector.h"
#include "engine/net/http_server.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sunbeam::test {

using namespace std::chrono_literals;

class FakeGateway {
 public:
  // How a route answers; runs on the server's thread.
  using Answer = std::function<HttpResponse(const HttpRequest&)>;

  FakeGateway() : server_(HttpServerOptions{"127.0.0.1:0", 1 << 20, std::chrono::milliseconds(20000), 2}) {}
  ~FakeGateway() {
    {
      std::lock_guard lock(mutex_);
      stopping_watch_ = true;
    }
    watch_wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    stop();
  }

  // Requests to `path` (any of GET and POST) are answered by `answer`.
  void route(const std::string& path, Answer answer) {
    for (const char* method : {"GET", "POST"})
      server_.route(method, path, [this, answer](HttpRequest req, HttpResponder respond) {
        on_request(std::move(req), std::move(respond), answer);
      });
  }

  void start() {
    auto p = server_.start();
    REQUIRE(p);
    port_ = *p;
  }
  void stop() {
    release_held();
    server_.stop(std::chrono::milliseconds(2000));
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // Hold every answer until release_held() (a gateway that does not answer in time).
  void hold_answers(bool on) {
    std::lock_guard lock(mutex_);
    hold_ = on;
  }
  // Answer only once `n` requests are in flight at once (then all of them,
  // a moment later), or after `patience` (a safety net: the test still ends
  // if the client never gets there).
  void gate_answers(int n, std::chrono::milliseconds patience = 10s) {
    std::lock_guard lock(mutex_);
    gate_ = n;
    patience_ = patience;
  }
  void release_held() {
    std::vector<std::pair<HttpResponder, HttpResponse>> out;
    {
      std::lock_guard lock(mutex_);
      for (auto& h : held_) out.emplace_back(std::move(h.respond), std::move(h.response));
      in_flight_ -= int(held_.size());
      held_.clear();
    }
    for (auto& [respond, response] : out) respond(std::move(response));
  }

  std::vector<HttpRequest> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  int max_in_flight() const {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }
  // Waits (bounded) until `n` requests have arrived.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds limit = 20s) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, limit, [&] { return received_.size() >= n; });
  }

 private:
  struct Held {
    HttpResponder respond;
    HttpResponse response;
    std::chrono::steady_clock::time_point since;
  };

  void on_request(HttpRequest req, HttpResponder respond, const Answer& answer) {
    HttpResponse response = answer(req);
    std::unique_lock lock(mutex_);
    received_.push_back(std::move(req));
    arrived_.notify_all();
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    if (hold_ || gate_ > 0) {
      held_.push_back({std::move(respond), std::move(response), std::chrono::steady_clock::now()});
      if (gate_ > 0 && int(held_.size()) >= gate_ && !gate_reached_) gate_reached_ = std::chrono::steady_clock::now();
      if (!hold_ && !watchdog_.joinable()) watchdog_ = std::thread([this] { watch(); });
      return;
    }
    --in_flight_;
    lock.unlock();
    respond(std::move(response));
  }

  // Answers gated requests: all of them a little after the gate was reached
  // (so that a client exceeding it would be seen), or any that waited
  // longer than `patience_`.
  void watch() {
    for (;;) {
      std::vector<Held> out;
      {
        std::unique_lock lock(mutex_);
        if (stopping_watch_) return;
        const auto now = std::chrono::steady_clock::now();
        const bool open = !hold_ && gate_reached_ && now - *gate_reached_ >= 20ms;
        while (!held_.empty() && !hold_ && (open || now - held_.front().since > patience_)) {
          out.push_back(std::move(held_.front()));
          held_.pop_front();
          --in_flight_;
        }
        if (open) gate_reached_.reset();
      }
      for (auto& h : out) h.respond(std::move(h.response));
      std::unique_lock lock(mutex_);
      if (stopping_watch_) return;
      watch_wake_.wait_for(lock, 5ms);
    }
  }

 private:
  HttpServer server_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::condition_variable watch_wake_;
  std::vector<HttpRequest> received_;
  std::deque<Held> held_;
  bool hold_ = false;
  int gate_ = 0;
  std::optional<std::chrono::steady_clock::time_point> gate_reached_;
  std::chrono::milliseconds patience_{10000};
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  bool stopping_watch_ = false;
  std::thread watchdog_;
};

inline HttpResponse answer(unsigned status, std::string body, std::string type = "application/json") {
  return HttpResponse{status, std::move(type), std::move(body), {}};
}

// Accepts connections, reads what the client sends (up to the end of its
// headers, or a second), and closes without a word.
class Hangup {
 public:
  Hangup() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // shut down
        timeval tv{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string got;
        char buf[4096];
        for (ssize_t n; got.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;)
          got.append(buf, std::size_t(n));
        ::close(c);
      }
    });
  }
  ~Hangup() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A port that was free a moment ago and has no listener.
inline std::uint16_t refused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Collects send outcomes from any thread; wait() is bounded.
class Outcomes {
 public:
  SendCompletion completion(const std::string& key) {
    return [this, key](SendOutcome o) {
      std::lock_guard lock(mutex_);
      ++calls_[key];
      by_key_[key] = std::move(o);
      done_.notify_all();
    };
  }
  bool wait(std::size_t n, std::chrono::milliseconds limit = 30s) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, limit, [&] { return by_key_.size() >= n; });
  }
  SendOutcome at(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = by_key_.find(key);
    REQUIRE(it != by_key_.end());
    return it->second;
  }
  std::map<std::string, int> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::map<std::string, SendOutcome> all() const {
    std::lock_guard lock(mutex_);
    return by_key_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::map<std::string, SendOutcome> by_key_;
  std::map<std::string, int> calls_;
};

}  // namespace sunbeam::test
