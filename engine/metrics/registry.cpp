#include "engine/metrics/registry.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <exception>
#include <stdexcept>

namespace sunbeam::metrics {

namespace {

void check_names(const std::string& name, const std::vector<std::string>& label_names, MetricType type) {
  if (!is_metric_name(name)) throw std::invalid_argument("metrics: \"" + name + "\" is not a metric name");
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const auto& label = label_names[i];
    if (!is_label_name(label))
      throw std::invalid_argument("metrics: " + name + ": \"" + label + "\" is not a label name");
    if (type == MetricType::histogram && label == "le")
      throw std::invalid_argument("metrics: " + name + ": a histogram's label may not be named le");
    for (std::size_t j = 0; j < i; ++j)
      if (label_names[j] == label) throw std::invalid_argument("metrics: " + name + ": label " + label + " twice");
  }
}

void render_collected(std::string& out, const CollectedFamily& f) {
  write_header(out, f.name(), f.help(), f.type());
  for (const auto& [values, value] : f.samples()) write_sample(out, f.name(), "", f.label_names(), values, value);
}

}  // namespace

namespace detail {

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names, MetricType type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {}

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metrics: " + name_ + " has " + std::to_string(label_names_.size()) +
                                " labels, given " + std::to_string(values.size()) + " values");
}

}  // namespace detail

CollectedFamily::CollectedFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 MetricType type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {}

void CollectedFamily::add(const LabelValues& values, double value) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metrics: " + name_ + " has " + std::to_string(label_names_.size()) +
                                " labels, given " + std::to_string(values.size()) + " values");
  samples_[values] = value;
}

void CollectedFamily::merge(const CollectedFamily& other) {
  for (const auto& [values, value] : other.samples_) samples_[values] = value;
}

CollectedFamily& MetricsWriter::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  return family(name, help, std::move(label_names), MetricType::gauge);
}

CollectedFamily& MetricsWriter::counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  return family(name, help, std::move(label_names), MetricType::counter);
}

CollectedFamily& MetricsWriter::family(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names, MetricType type) {
  check_names(name, label_names, type);
  if (auto it = families_.find(name); it != families_.end()) {
    if (it->second.type() != type || it->second.label_names() != label_names)
      throw std::invalid_argument("metrics: " + name + " written twice with a different kind or labels");
    return it->second;
  }
  return families_.try_emplace(name, name, help, std::move(label_names), type).first->second;
}

template <class Child>
Family<Child>& Registry::add(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                             std::shared_ptr<const std::vector<double>> bounds) {
  constexpr MetricType type = detail::type_of<Child>();
  check_names(name, label_names, type);
  std::lock_guard lock(mutex_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto& existing = *it->second;
    const bool same = existing.type() == type && existing.label_names() == label_names &&
                      (!bounds || *static_cast<Family<Child>&>(existing).bounds() == *bounds);
    if (!same) throw std::invalid_argument("metrics: " + name + " registered twice with a different kind or labels");
    return static_cast<Family<Child>&>(existing);
  }
  auto family = std::make_unique<Family<Child>>(name, help, std::move(label_names), std::move(bounds));
  auto& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return add<Counter>(name, help, std::move(label_names), nullptr);
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  return add<Gauge>(name, help, std::move(label_names), nullptr);
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  if (bounds.empty()) throw std::invalid_argument("metrics: " + name + ": a histogram needs at least one bucket");
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i])))
      throw std::invalid_argument("metrics: " + name + ": bucket bounds must be finite and strictly increasing");
  }
  return add<Histogram>(name, help, std::move(label_names),
                        std::make_shared<const std::vector<double>>(std::move(bounds)));
}

void Registry::add_collector(Collector collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  // Name -> its finished text, so registered and collected families come out sorted together.
  std::map<std::string, std::string> texts;
  std::map<std::string, const detail::FamilyBase*> registered;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
      std::string samples;
      family->render_samples(samples);
      registered.emplace(name, family.get());
      if (samples.empty()) continue;
      std::string text;
      write_header(text, name, family->help(), family->type());
      texts.emplace(name, text + samples);
    }
    collectors = collectors_;
  }

  std::map<std::string, CollectedFamily> collected;
  for (std::size_t i = 0; i < collectors.size(); ++i) {
    MetricsWriter writer;
    try {
      collectors[i](writer);
    } catch (const std::exception& e) {
      spdlog::warn("metrics: collector {} failed, its values are left out of this scrape: {}", i, e.what());
      continue;
    }
    for (const auto& [name, family] : writer.families()) {
      if (registered.contains(name)) {
        spdlog::warn("metrics: collector {} writes {}, a registered family: left out", i, name);
        continue;
      }
      auto [it, fresh] = collected.try_emplace(name, family);
      if (fresh) continue;
      if (it->second.type() != family.type() || it->second.label_names() != family.label_names()) {
        spdlog::warn("metrics: collector {} writes {} with another kind or labels than an earlier one: left out", i,
                     name);
        continue;
      }
      it->second.merge(family);
    }
  }
  for (const auto& [name, family] : collected) {
    if (family.samples().empty()) continue;
    render_collected(texts[name], family);
  }

  std::string out;
  for (const auto& [name, text] : texts) out += text;
  return out;
}

}  // namespace sunbeam::metrics
