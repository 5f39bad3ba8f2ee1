#include "engine/status/status_view.h"

#include <spdlog/spdlog.h>

#include <iterator>
#include <map>

namespace sunbeam {

using namespace std::chrono_literals;

namespace {

// Records per transaction. While catching up (a rebuild reads millions), a
// commit rewrites every index page its batch touched, and delivery ids land
// at random in the primary key: 50,000 per commit took a million records in
// 10 s of CPU where 5,000 took 17 (bench/status_index). Once caught up,
// batches are what arrives within `live_gather` of the first record: answers
// stay current within it, and a fan-out's records go in a few commits a
// second rather than one each time librdkafka hands over a fetch (every
// commit writes the count rows and the ends of the delivery runs again: the
// index's commits were ~8% of the engine's CPU in render-only, bench/NOTES.md).
constexpr std::size_t catch_up_batch = 50000;
constexpr std::size_t live_batch = 5000;
constexpr auto live_gather = 50ms;

}  // namespace

StatusView::StatusView(const Config& config, kafka::ClientSettings settings, kafka::Topics topics)
    : config_(config), settings_(std::move(settings)), topics_(std::move(topics)) {}

StatusView::~StatusView() { stop(); }

std::filesystem::path StatusView::index_file(const Config& config) {
  return config.storage / (config.kafka.instance_id + "-status.sqlite");
}

Result<void> StatusView::open() {
  if (index_) return {};
  auto index = StatusIndex::open(index_file(config_));
  if (!index) return index.error();
  index_ = std::move(*index);
  return {};
}

Result<void> StatusView::start() {
  if (auto r = open(); !r) return r;
  auto consumer = kafka::Consumer::create(settings_, {config_.kafka.topic_prefix + "status-view",
                                                      config_.kafka.instance_id + "-status-view", true});
  if (!consumer) return consumer.error();
  consumer_ = std::move(*consumer);
  const auto positions = index_->positions();
  if (auto r = consumer_->assign({topics_.status, topics_.dlq}, positions); !r) return r.error();
  if (index_->rebuilt() || positions.empty())
    spdlog::info("status index: building {} from the beginning of {} and {}", index_->file().string(), topics_.status,
                 topics_.dlq);
  else
    spdlog::info("status index: {} resumes at its stored offsets", index_->file().string());
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void StatusView::stop() {
  if (!running_.exchange(false)) return;
  thread_.join();
  consumer_->close();
  consumer_.reset();
}

void StatusView::run() {
  const auto started = std::chrono::steady_clock::now();
  std::size_t records = 0;
  while (running_) {
    const std::size_t max = caught_up_ ? live_batch : catch_up_batch;
    auto batch = consumer_->poll_batch(max, 100ms);
    for (const auto until = std::chrono::steady_clock::now() + live_gather;
         caught_up_ && running_ && !batch.empty() && batch.size() < max;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      auto more = consumer_->poll_batch(max - batch.size(), left);
      batch.insert(batch.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    std::vector<StatusIndex::Input> inputs;
    inputs.reserve(batch.size());
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
    for (const auto& m : batch) {
      // Every record read moves the position on, a malformed one too.
      auto& n = next[{m.topic, m.partition}];
      n = std::max(n, m.offset + 1);
      if (m.topic == topics_.dlq) {
        auto letter = parse_dead_letter(m.value);
        if (letter) inputs.emplace_back(std::move(*letter));
        else spdlog::warn("status: skipping a dead letter at {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                          letter.error().message);
        continue;
      }
      auto record = parse_status_record(m.value);
      if (record) inputs.emplace_back(std::move(*record));
      else spdlog::warn("status: skipping a record at {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                        record.error().message);
    }
    std::vector<kafka::PartitionOffset> positions;
    for (const auto& [tp, offset] : next) positions.push_back({tp.first, tp.second, offset});
    if (!positions.empty()) {
      // Not durable: try the same batch again rather than skip it (the
      // positions stay where they were, so a restart reads it again too).
      while (running_) {
        auto r = index_->apply(inputs, positions);
        if (r) break;
        spdlog::error("status index: cannot store {} records, trying again in 1 s: {}", inputs.size(),
                      r.error().message);
        std::this_thread::sleep_for(1s);
      }
      records += batch.size();
    }
    if (!caught_up_ && consumer_->caught_up()) {
      caught_up_ = true;
      spdlog::info("status index: caught up ({} records read in {} ms)", records,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                       .count());
    }
  }
}

void StatusView::apply_one(StatusIndex::Input input) {
  if (auto r = open(); !r) {
    spdlog::error("status index: {}", r.error().message);
    return;
  }
  if (auto r = index_->apply({std::move(input)}); !r) spdlog::error("status index: {}", r.error().message);
}

void StatusView::apply(const StatusTopicRecord& record) { apply_one(record); }
void StatusView::apply(const DeadLetter& letter) { apply_one(letter); }

Result<void> StatusView::mark_cancelled(const std::string& event_id, std::int64_t time_ms) {
  if (!index_) return make_error("status_index", "the status index is not open");
  return index_->mark_cancelled(event_id, time_ms);
}

std::optional<EventStatus> StatusView::event(const std::string& event_id) const {
  return index_ ? index_->event(event_id) : std::nullopt;
}

std::vector<EventSummary> StatusView::recent_events(std::size_t limit) const {
  return index_ ? index_->recent_events(limit) : std::vector<EventSummary>{};
}

FailurePage StatusView::failures(const FailureSelector& selector, std::size_t limit) const {
  return index_ ? index_->failures(selector, limit) : FailurePage{};
}

std::vector<DeliveryCount> StatusView::delivery_counts() const {
  return index_ ? index_->delivery_counts() : std::vector<DeliveryCount>{};
}

std::vector<DigestRun> StatusView::digest_runs(std::size_t limit) const {
  return index_ ? index_->digest_runs(limit) : std::vector<DigestRun>{};
}

std::optional<DigestRun> StatusView::digest_run(const std::string& date) const {
  return index_ ? index_->digest_run(date) : std::nullopt;
}

}  // namespace sunbeam
