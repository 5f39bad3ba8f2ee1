// The Prometheus registry: exact exposition text, cumulative buckets, exact
// totals under concurrent updates, scrape-time collectors.
#include "engine/metrics/registry.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace sunbeam::metrics;

TEST_CASE("a counter with labels, values escaped, children in label order") {
  Registry r;
  auto& sends = r.counter("sunbeam_test_sends_total", "Sends by outcome.", {"connector", "outcome"});
  sends.with({"kannel", "sent"}).inc();
  sends.with({"kannel", "sent"}).inc(2);
  sends.with({"a\"b\\c\nd", "failed"}).inc();
  CHECK(r.render() ==
        "# HELP sunbeam_test_sends_total Sends by outcome.\n"
        "# TYPE sunbeam_test_sends_total counter\n"
        "sunbeam_test_sends_total{connector=\"a\\\"b\\\\c\\nd\",outcome=\"failed\"} 1\n"
        "sunbeam_test_sends_total{connector=\"kannel\",outcome=\"sent\"} 3\n");
}

TEST_CASE("gauges: set, up and down; a family without labels shows 0 before it is touched") {
  Registry r;
  auto& suspended = r.gauge("sunbeam_test_suspended", "1 while suspended.", {"connector"});
  r.gauge("sunbeam_test_idle", "Help with a \\ and a\nnewline.");
  suspended.with({"smtp"}).set(1);
  auto& temp = suspended.with({"kannel"});
  temp.set(-2.5);
  temp.inc(4);
  temp.dec(0.25);
  CHECK(temp.value() == 1.25);
  CHECK(r.render() ==
        "# HELP sunbeam_test_idle Help with a \\\\ and a\\nnewline.\n"
        "# TYPE sunbeam_test_idle gauge\n"
        "sunbeam_test_idle 0\n"
        "# HELP sunbeam_test_suspended 1 while suspended.\n"
        "# TYPE sunbeam_test_suspended gauge\n"
        "sunbeam_test_suspended{connector=\"kannel\"} 1.25\n"
        "sunbeam_test_suspended{connector=\"smtp\"} 1\n");
}

TEST_CASE("a histogram: cumulative buckets with le inclusive, then sum and count") {
  Registry r;
  auto& latency = r.histogram("sunbeam_test_latency_seconds", "Send latency.", {"connector"}, {0.25, 0.5, 1});
  auto& h = latency.with({"kannel"});
  for (double v : {0.125, 0.25, 0.75, 4.0}) h.observe(v);
  CHECK(r.render() ==
        "# HELP sunbeam_test_latency_seconds Send latency.\n"
        "# TYPE sunbeam_test_latency_seconds histogram\n"
        "sunbeam_test_latency_seconds_bucket{connector=\"kannel\",le=\"0.25\"} 2\n"
        "sunbeam_test_latency_seconds_bucket{connector=\"kannel\",le=\"0.5\"} 2\n"
        "sunbeam_test_latency_seconds_bucket{connector=\"kannel\",le=\"1\"} 3\n"
        "sunbeam_test_latency_seconds_bucket{connector=\"kannel\",le=\"+Inf\"} 4\n"
        "sunbeam_test_latency_seconds_sum{connector=\"kannel\"} 5.125\n"
        "sunbeam_test_latency_seconds_count{connector=\"kannel\"} 4\n");
}

TEST_CASE("histogram buckets never decrease and the last equals the count") {
  Registry r;
  auto& h = r.histogram("sunbeam_test_h", "h", {}, exponential_buckets(0.001, 2, 12)).with({});
  for (int i = 0; i < 1000; ++i) h.observe(0.0007 * i);
  h.observe(std::numeric_limits<double>::quiet_NaN());
  const auto s = h.snapshot();
  REQUIRE(s.cumulative.size() == 13);
  for (std::size_t i = 1; i < s.cumulative.size(); ++i) CHECK(s.cumulative[i - 1] <= s.cumulative[i]);
  CHECK(s.cumulative.back() == 1001);
  CHECK(s.count == 1001);
  // le is inclusive: 0 and 0.0007 are <= 0.001; 0.0014 is not.
  CHECK(s.cumulative.front() == 2);
  CHECK(s.bounds.back() == doctest::Approx(2.048));
}

TEST_CASE("a histogram without labels, and a trailing +Inf bound is implicit") {
  Registry r;
  auto& h = r.histogram("sunbeam_test_plain", "p", {}, {1, std::numeric_limits<double>::infinity()}).with({});
  h.observe(2);
  CHECK(r.render() ==
        "# HELP sunbeam_test_plain p\n"
        "# TYPE sunbeam_test_plain histogram\n"
        "sunbeam_test_plain_bucket{le=\"1\"} 0\n"
        "sunbeam_test_plain_bucket{le=\"+Inf\"} 1\n"
        "sunbeam_test_plain_sum 2\n"
        "sunbeam_test_plain_count 1\n");
}

TEST_CASE("families come out sorted by name, a labelled family without children not at all") {
  Registry r;
  r.counter("sunbeam_zeta_total", "z").with({}).inc();
  r.counter("sunbeam_empty_total", "never touched", {"connector"});
  r.gauge("sunbeam_alpha", "a").with({}).set(7);
  CHECK(r.render() ==
        "# HELP sunbeam_alpha a\n"
        "# TYPE sunbeam_alpha gauge\n"
        "sunbeam_alpha 7\n"
        "# HELP sunbeam_zeta_total z\n"
        "# TYPE sunbeam_zeta_total counter\n"
        "sunbeam_zeta_total 1\n");
}

TEST_CASE("values are written exactly and Prometheus' special values by name") {
  CHECK(format_value(42) == "42");
  CHECK(format_value(0.1) == "0.1");
  CHECK(format_value(-1.5) == "-1.5");
  CHECK(format_value(1e-05) == "1e-05");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(std::stod(format_value(0.1 + 0.2)) == 0.1 + 0.2);
}

TEST_CASE("a child's reference is stable, and registering again returns the same family") {
  Registry r;
  auto& f = r.counter("sunbeam_test_total", "t", {"connector"});
  Counter* first = &f.with({"a"});
  for (int i = 0; i < 100; ++i) f.with({"c" + std::to_string(i)}).inc();
  CHECK(&f.with({"a"}) == first);
  CHECK(&r.counter("sunbeam_test_total", "t", {"connector"}) == &f);
}

TEST_CASE("programming errors are refused loudly") {
  Registry r;
  auto& f = r.counter("sunbeam_test_total", "t", {"connector", "outcome"});
  CHECK_THROWS_AS(f.with({"only one"}), std::invalid_argument);
  CHECK_THROWS_AS(r.gauge("sunbeam_test_total", "t", {"connector", "outcome"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("sunbeam_test_total", "t", {"connector"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("1bad", "t"), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("sunbeam-bad", "t"), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("sunbeam_ok", "t", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("sunbeam_ok", "t", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("sunbeam_h", "h", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("sunbeam_h", "h", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("sunbeam_h", "h", {}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("sunbeam_h", "h", {}, {2, 1}), std::invalid_argument);
  r.histogram("sunbeam_h2", "h", {}, {1, 2});
  CHECK_THROWS_AS(r.histogram("sunbeam_h2", "h", {}, {1, 3}), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(0, 2, 3), std::invalid_argument);
}

TEST_CASE("concurrent updates from several threads add up exactly") {
  Registry r;
  auto& counters = r.counter("sunbeam_test_total", "t", {"worker_group"});
  auto& gauge = r.gauge("sunbeam_test_gauge", "g").with({});
  auto& hist = r.histogram("sunbeam_test_seconds", "h", {}, {0.5, 1.5}).with({});
  constexpr int threads = 4;
  constexpr int per_thread = 50000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      // Looked up from every thread at once: all must get the same child.
      auto& shared = counters.with({"shared"});
      for (int i = 0; i < per_thread; ++i) {
        shared.inc();
        gauge.inc(2);
        gauge.dec();
        hist.observe(1);
      }
    });
  // Scrapes while they run must not disturb anything.
  for (int i = 0; i < 20; ++i) CHECK_FALSE(r.render().empty());
  for (auto& w : workers) w.join();
  CHECK(counters.with({"shared"}).value() == threads * per_thread);
  CHECK(gauge.value() == threads * per_thread);
  const auto s = hist.snapshot();
  CHECK(s.count == threads * per_thread);
  CHECK(s.sum == threads * per_thread);
  CHECK(s.cumulative == std::vector<std::uint64_t>{0, threads * per_thread, threads * per_thread});
}

TEST_CASE("collectors write values computed at scrape time, sorted among the registered families") {
  Registry r;
  r.counter("sunbeam_b_total", "b").with({}).inc(5);
  double lag = 3;
  r.add_collector([&](MetricsWriter& w) {
    auto& g = w.gauge("sunbeam_consumer_lag", "Records not yet read.", {"group", "topic"});
    g.add({"dispatch", "sunbeam.deliveries.low"}, lag);
    g.add({"dispatch", "sunbeam.deliveries.high"}, 1);
  });
  r.add_collector([](MetricsWriter& w) {
    // A second collector adds to the same family.
    w.gauge("sunbeam_consumer_lag", "Records not yet read.", {"group", "topic"}).add({"fanout", "sunbeam.events"}, 0);
    w.counter("sunbeam_c_total", "c").add({}, 9);
  });
  const std::string expected_tail =
      "# HELP sunbeam_c_total c\n"
      "# TYPE sunbeam_c_total counter\n"
      "sunbeam_c_total 9\n"
      "# HELP sunbeam_consumer_lag Records not yet read.\n"
      "# TYPE sunbeam_consumer_lag gauge\n"
      "sunbeam_consumer_lag{group=\"dispatch\",topic=\"sunbeam.deliveries.high\"} 1\n"
      "sunbeam_consumer_lag{group=\"dispatch\",topic=\"sunbeam.deliveries.low\"} ";
  const std::string head =
      "# HELP sunbeam_b_total b\n"
      "# TYPE sunbeam_b_total counter\n"
      "sunbeam_b_total 5\n";
  const std::string fanout = "sunbeam_consumer_lag{group=\"fanout\",topic=\"sunbeam.events\"} 0\n";
  CHECK(r.render() == head + expected_tail + "3\n" + fanout);
  lag = 12;
  CHECK(r.render() == head + expected_tail + "12\n" + fanout);
}

TEST_CASE("a failing or clashing collector is left out; the rest of the scrape stands") {
  Registry r;
  r.gauge("sunbeam_registered", "r").with({}).set(1);
  r.add_collector([](MetricsWriter& w) {
    w.gauge("sunbeam_half", "h").add({}, 1);
    throw std::runtime_error("status index closed");
  });
  r.add_collector([](MetricsWriter& w) { w.gauge("sunbeam_registered", "clash").add({}, 2); });
  r.add_collector([](MetricsWriter& w) { w.gauge("sunbeam_good", "g", {"a"}).add({"x"}, 4); });
  r.add_collector([](MetricsWriter& w) { w.counter("sunbeam_good", "g", {"a"}).add({"y"}, 5); });
  r.add_collector([](MetricsWriter& w) { w.gauge("sunbeam_bad_arity", "b", {"a", "b"}).add({"x"}, 1); });
  CHECK(r.render() ==
        "# HELP sunbeam_good g\n"
        "# TYPE sunbeam_good gauge\n"
        "sunbeam_good{a=\"x\"} 4\n"
        "# HELP sunbeam_registered r\n"
        "# TYPE sunbeam_registered gauge\n"
        "sunbeam_registered 1\n");
}
