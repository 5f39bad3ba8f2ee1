// Prometheus text exposition format 0.0.4, the lines a scrape reads:
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram
//   <name><suffix>{<label>="<value, with \ " and newline escaped>",...} <value>
// Values are written in the shortest form that reads back exactly
// (std::to_chars), with +Inf, -Inf and NaN spelled as Prometheus spells them.
#pragma once

#include "engine/metrics/instruments.h"

#include <string>
#include <string_view>
#include <vector>

namespace sunbeam::metrics {

using LabelValues = std::vector<std::string>;

enum class MetricType { counter, gauge, histogram };

std::string_view to_string(MetricType type);

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names without ':' and
// not starting with "__" (reserved by Prometheus).
bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
std::string format_value(double value);

void write_header(std::string& out, std::string_view name, std::string_view help, MetricType type);
// One sample line; `le` (histogram buckets) is added after the family's labels when not empty.
void write_sample(std::string& out, std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& label_names, const LabelValues& values, double value,
                  std::string_view le = {});
// A histogram child: its `_bucket` lines (cumulative, ending with +Inf), `_sum` and `_count`.
void write_histogram(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                     const LabelValues& values, const Histogram::Snapshot& snapshot);

}  // namespace sunbeam::metrics
