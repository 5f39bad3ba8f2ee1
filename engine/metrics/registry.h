// The process's Prometheus metrics and their text for `GET /metrics`.
//
//   metrics::Registry registry;
//   auto& sends = registry.counter("sunbeam_dispatch_outcomes_total", "Sends by outcome.",
//                                  {"connector", "outcome"});
//   metrics::Counter& sent = sends.with({"kannel", "sent"});   // look up once, keep the reference
//   sent.inc();                                                  // lock-free, any thread
//   registry.add_collector([&](metrics::MetricsWriter& w) {      // values computed at scrape time
//     auto& lag = w.gauge("sunbeam_consumer_lag", "Records not yet read.", {"group", "topic"});
//     lag.add({"dispatch", "sunbeam.deliveries.high"}, 42);
//   });
//   std::string text = registry.render();
//
// Why hand-written: Debian bookworm does package a C++ client (prometheus-cpp
// 1.0.1, `apt-cache search prometheus` lists prometheus-cpp-dev), but its -dev
// package drags in the civetweb HTTP server and the push/pull libraries we
// would not use (the engine serves /metrics from its own Beast server), its
// families keep children in a hash map (output order changes between runs),
// its histograms take a mutex per observation, and its text serializer in that
// version neither escapes HELP nor spells NaN as Prometheus does. What we need
// (three kinds, labels, collectors, the 0.0.4 text format) is small enough to
// own and test exactly.
//
// Output: families sorted by name; children of a family in label-value order;
// a labelled family with no child yet is left out, a family without labels
// always shows its one child (0 until touched).
//
// Lifetime and thread safety: families and children live as long as the
// registry; references to them never dangle or move. Every method may be
// called from any thread. Registering the same name again with the same kind
// and labels returns the existing family; with anything else it throws
// std::invalid_argument (a programming error, found by the first test).
#pragma once

#include "engine/metrics/instruments.h"
#include "engine/metrics/text_format.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace sunbeam::metrics {

namespace detail {

// What every family has, whatever its kind.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names, MetricType type);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  MetricType type() const { return type_; }

  // Appends the sample lines (not HELP/TYPE); appends nothing without children.
  virtual void render_samples(std::string& out) const = 0;

 protected:
  // Throws std::invalid_argument unless there is one value per label name.
  void check_arity(const LabelValues& values) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  MetricType type_;
};

template <class Child>
constexpr MetricType type_of() {
  if constexpr (std::is_same_v<Child, Counter>) return MetricType::counter;
  else if constexpr (std::is_same_v<Child, Gauge>) return MetricType::gauge;
  else return MetricType::histogram;
}

}  // namespace detail

// A metric name with label names; one child per set of label values.
template <class Child>
class Family final : public detail::FamilyBase {
 public:
  // Made by Registry. `bounds` only for histograms.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::shared_ptr<const std::vector<double>> bounds = nullptr)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names), detail::type_of<Child>()),
        bounds_(std::move(bounds)) {
    if (this->label_names().empty()) with({});
  }

  // The child for `values`, one per label name in the order they were
  // declared; created at first use. Takes a lock: call it once and keep the
  // reference on hot paths.
  Child& with(const LabelValues& values) {
    check_arity(values);
    std::lock_guard lock(mutex_);
    auto& slot = children_[values];
    if (!slot) {
      if constexpr (std::is_same_v<Child, Histogram>) slot = std::make_unique<Histogram>(bounds_);
      else slot = std::make_unique<Child>();
    }
    return *slot;
  }

  // Histograms: the upper bounds of the buckets, without +Inf.
  const std::vector<double>* bounds() const { return bounds_.get(); }

  void render_samples(std::string& out) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) {
      if constexpr (std::is_same_v<Child, Histogram>) write_histogram(out, name(), label_names(), values, child->snapshot());
      else write_sample(out, name(), "", label_names(), values, child->value());
    }
  }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Child>> children_;  // ordered: stable output
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Samples a collector computed for one family at scrape time.
class CollectedFamily {
 public:
  CollectedFamily(std::string name, std::string help, std::vector<std::string> label_names, MetricType type);

  // One value per label name; the same label values again replace the value.
  // Throws std::invalid_argument when the number of values is wrong.
  void add(const LabelValues& values, double value);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  MetricType type() const { return type_; }
  const std::map<LabelValues, double>& samples() const { return samples_; }
  void merge(const CollectedFamily& other);  // other's samples win

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  MetricType type_;
  std::map<LabelValues, double> samples_;
};

// What a collector writes to. Asking again for a family it already wrote
// returns the same one; a different kind or labels throws std::invalid_argument.
class MetricsWriter {
 public:
  CollectedFamily& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  CollectedFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});

  const std::map<std::string, CollectedFamily>& families() const { return families_; }

 private:
  CollectedFamily& family(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                          MetricType type);
  std::map<std::string, CollectedFamily> families_;
};

using Collector = std::function<void(MetricsWriter&)>;

class Registry {
 public:
  CounterFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  // `bounds`: strictly increasing, finite; +Inf is implicit (a trailing +Inf is accepted and dropped).
  HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                             std::vector<double> bounds);

  // Runs at every render(), outside the registry's lock, so it may read
  // anything (a status index, a breaker) but must not block for long. A
  // collector that throws is skipped for that scrape, with a warning; so is a
  // family of it whose name a registered family or another collector already
  // uses with a different kind or labels.
  void add_collector(Collector collect);

  // The whole exposition, Prometheus text format 0.0.4
  // (Content-Type: text/plain; version=0.0.4; charset=utf-8).
  std::string render() const;

 private:
  template <class Child>
  Family<Child>& add(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                     std::shared_ptr<const std::vector<double>> bounds);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<detail::FamilyBase>> families_;
  std::vector<Collector> collectors_;
};

}  // namespace sunbeam::metrics
