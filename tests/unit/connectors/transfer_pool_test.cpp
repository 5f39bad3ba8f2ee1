// The transfer pool against an in-process gateway: concurrency is a ceiling,
// connections are reused, stop() finishes every transfer exactly once, and a
// completion may submit again.
#include "connectors/curl/http_transfer.h"
#include "connectors/failure.h"
#include "tests/unit/connectors/fake_gateway.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>

using namespace sunbeam;
using namespace sunbeam::test;

namespace {

std::unique_ptr<HttpTransfer> get(const std::string& url, std::function<void(HttpGatewayAnswer)> done,
                                  std::chrono::milliseconds timeout = 10s) {
  HttpGatewayRequest r;
  r.url = url;
  r.timeout = timeout;
  return std::make_unique<HttpTransfer>(std::move(r), std::move(done));
}

}  // namespace

TEST_CASE("transfer pool: at most `concurrency` at once, and that many reached") {
  FakeGateway gw;
  gw.route("/x", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.gate_answers(3);  // answers go out when three requests wait together
  gw.start();

  Outcomes outcomes;
  {
    TransferPool pool({"test", 3});
    for (int i = 0; i < 30; ++i) {
      auto done = outcomes.completion(std::to_string(i));
      pool.submit(get(gw.url("/x"), [done](HttpGatewayAnswer a) { done(http_outcome(a.code, a.status, "gw", a.body)); }));
    }
    REQUIRE(outcomes.wait(30));
  }
  CHECK(gw.count() == 30);
  CHECK(gw.max_in_flight() <= 3);
  CHECK(gw.max_in_flight() == 3);
  for (const auto& [key, o] : outcomes.all()) CHECK_MESSAGE(o.accepted(), key << ": " << o.error);
}

TEST_CASE("transfer pool: 200 transfers with concurrency 4 open at most 4 connections") {
  FakeGateway gw;
  gw.route("/x", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.start();

  TransferPool pool({"reuse", 4});
  Outcomes outcomes;
  for (int i = 0; i < 200; ++i) {
    auto done = outcomes.completion(std::to_string(i));
    pool.submit(get(gw.url("/x"), [done](HttpGatewayAnswer a) { done(http_outcome(a.code, a.status, "gw", a.body)); }));
  }
  REQUIRE(outcomes.wait(200));
  for (const auto& [key, o] : outcomes.all()) CHECK_MESSAGE(o.accepted(), key << ": " << o.error);
  CHECK(pool.connections_opened() >= 1);
  CHECK(pool.connections_opened() <= 4);
}

TEST_CASE("transfer pool: stop() lets the running transfer end and aborts the queued ones, each finished once") {
  FakeGateway gw;
  gw.route("/x", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.hold_answers(true);
  gw.start();

  std::mutex m;
  std::map<int, int> calls;
  std::map<int, CURLcode> codes;
  TransferPool pool({"stop", 1});
  for (int i = 0; i < 10; ++i)
    pool.submit(get(gw.url("/x"), [&, i](HttpGatewayAnswer a) {
      std::lock_guard lock(m);
      ++calls[i];
      codes[i] = a.code;
    }, 500ms));
  REQUIRE(gw.wait_for_requests(1));
  pool.stop();  // the one running times out after 500 ms; nine were waiting
  pool.stop();  // twice is harmless

  std::lock_guard lock(m);
  REQUIRE(calls.size() == 10);
  for (const auto& [i, n] : calls) CHECK_MESSAGE(n == 1, "transfer " << i << " finished " << n << " times");
  CHECK(codes[0] == CURLE_OPERATION_TIMEDOUT);
  for (int i = 1; i < 10; ++i) CHECK(codes[i] == CURLE_ABORTED_BY_CALLBACK);
  CHECK(gw.count() == 1);  // nothing queued was sent after stop()

  // After stop: finished at once, on this thread.
  bool late = false;
  pool.submit(get(gw.url("/x"), [&](HttpGatewayAnswer a) { late = a.code == CURLE_ABORTED_BY_CALLBACK; }));
  CHECK(late);
}

TEST_CASE("transfer pool: a completion may submit the next transfer (the pool's own thread)") {
  FakeGateway gw;
  gw.route("/x", [](const HttpRequest&) { return answer(200, "{}"); });
  gw.start();

  TransferPool pool({"chain", 2});
  std::promise<int> finished;
  std::atomic<int> n{0};
  std::function<void(HttpGatewayAnswer)> next = [&](HttpGatewayAnswer a) {
    if (a.code != CURLE_OK || ++n == 5) return finished.set_value(n);
    pool.submit(get(gw.url("/x"), next));
  };
  pool.submit(get(gw.url("/x"), next));
  auto f = finished.get_future();
  REQUIRE(f.wait_for(30s) == std::future_status::ready);
  CHECK(f.get() == 5);
}
