#include "engine/kafka/consumer.h"

#include "engine/kafka/admin.h"
#include "engine/kafka/doorbell.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>

namespace sunbeam::kafka {

Result<std::unique_ptr<Consumer>> Consumer::create(const ClientSettings& settings, const Options& options,
                                                   const std::string& static_member) {
  std::map<std::string, std::string> properties{
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"},
      {"enable.partition.eof", "true"},
      // The broker holds an empty fetch this long; the 500 ms default
      // showed up as an idle gap between dispatch batches at the sink.
      {"fetch.wait.max.ms", "50"},
      {"fetch.error.backoff.ms", "50"},
      // A consumer group of one process joins fast; the default 3 s delay
      // only helps when many members start at once.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
  };
  if (settings.static_membership && !static_member.empty()) properties.emplace("group.instance.id", static_member);
  auto conf = settings.make_conf(properties, options.client_id);
  if (!conf) return conf.error();
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(*conf);
    return make_error("kafka_consumer", std::string("cannot create a Kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(rk);
  return std::unique_ptr<Consumer>(new Consumer(rk));
}

Consumer::Consumer(rd_kafka_t* rk) : rk_(rk) {}

Consumer::~Consumer() {
  close();
  rd_kafka_destroy(rk_);
}

void Consumer::close() {
  if (closed_) return;
  closed_ = true;
  if (bell_) ring_on_arrival(nullptr);
  rd_kafka_consumer_close(rk_);
}

namespace {
// rd_kafka_queue_cb_event_enable's callback: no librdkafka calls, nothing long.
void ring_bell(rd_kafka_t*, void* bell) { static_cast<Doorbell*>(bell)->ring(); }
}  // namespace

void Consumer::ring_on_arrival(Doorbell* bell) {
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk_);
  if (!queue) return;  // not a group consumer: no consumer queue
  rd_kafka_queue_cb_event_enable(queue, bell ? &ring_bell : nullptr, bell);
  rd_kafka_queue_destroy(queue);  // the handle only: the queue is the consumer's
  bell_ = bell;
}

Result<void> Consumer::subscribe(const std::vector<std::string>& topics) {
  auto* list = rd_kafka_topic_partition_list_new(int(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  const auto err = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return make_error("kafka_subscribe", std::string("cannot subscribe: ") + rd_kafka_err2str(err));
  return {};
}

Result<void> Consumer::assign_from_beginning(const std::string& topic) { return assign({topic}, {}); }

Result<void> Consumer::assign(const std::vector<std::string>& topics, const std::vector<PartitionOffset>& from) {
  std::map<std::pair<std::string, int>, std::int64_t> stored;
  for (const auto& p : from) stored[{p.topic, p.partition}] = p.offset;
  auto* list = rd_kafka_topic_partition_list_new(8);
  assigned_.clear();
  at_end_.clear();
  {
    std::lock_guard lock(positions_mutex_);
    positions_.clear();
  }
  for (const auto& topic : topics) {
    auto count = partition_count(rk_, topic);
    if (!count) {
      rd_kafka_topic_partition_list_destroy(list);
      return count.error();
    }
    for (int p = 0; p < *count; ++p) {
      const auto it = stored.find({topic, p});
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
          it == stored.end() ? RD_KAFKA_OFFSET_BEGINNING : it->second;
      assigned_.emplace(topic, p);
    }
  }
  const auto err = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) {
    std::string names;
    for (const auto& topic : topics) names += (names.empty() ? "" : ", ") + topic;
    return make_error("kafka_assign", "cannot read " + names + ": " + rd_kafka_err2str(err));
  }
  return {};
}

bool Consumer::fenced() const { return rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR; }

bool Consumer::check_fenced() {
  if (fenced_logged_) return true;
  char reason[512];
  if (rd_kafka_fatal_error(rk_, reason, sizeof reason) == RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  fenced_logged_ = true;
  spdlog::error("kafka consumer {}: {}: it reads nothing more. Another process joined its group as the same static "
                "member (the same kafka.instance_id): give every instance its own",
                rd_kafka_name(rk_), reason);
  return true;
}

std::vector<Message> Consumer::poll_batch(std::size_t max, std::chrono::milliseconds timeout) {
  std::vector<Message> out;
  // librdkafka goes on fetching for a fenced member; what it fetched belongs
  // to the process that fenced it.
  if (check_fenced()) {
    std::this_thread::sleep_for(timeout);
    return out;
  }
  int wait_ms = int(timeout.count());
  while (out.size() < max) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait_ms);
    if (!m) break;
    wait_ms = 0;  // take what is already fetched, wait no more
    const std::string topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end_.emplace(topic, m->partition);
      set_position(topic, m->partition, m->offset);  // an end event's offset is the end
    } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
      rd_kafka_message_destroy(m);
      (void)check_fenced();  // says why, once
      break;
    } else if (m->err) {
      spdlog::warn("kafka consumer {}: {}", rd_kafka_name(rk_), rd_kafka_message_errstr(m));
    } else {
      at_end_.erase({topic, m->partition});
      set_position(topic, m->partition, m->offset + 1);
      rd_kafka_timestamp_type_t tstype;
      out.push_back(Message{topic, m->partition, m->offset,
                            m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : std::string(),
                            std::string(static_cast<const char*>(m->payload), m->len),
                            rd_kafka_message_timestamp(m, &tstype)});
    }
    rd_kafka_message_destroy(m);
  }
  return out;
}

void Consumer::set_position(const std::string& topic, int partition, std::int64_t next) {
  std::lock_guard lock(positions_mutex_);
  positions_[{topic, partition}] = next;
}

std::vector<PartitionLag> Consumer::lag() const {
  std::vector<PartitionLag> out;
  // The assignment comes from librdkafka's own thread, not from a broker.
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned) return out;
  {
    std::lock_guard lock(positions_mutex_);
    for (int i = 0; i < assigned->cnt; ++i) {
      const auto& tp = assigned->elems[i];
      const auto it = positions_.find({tp.topic, tp.partition});
      if (it == positions_.end()) continue;
      const auto high = cached_end(tp.topic, tp.partition);
      if (!high) continue;
      out.push_back(PartitionLag{tp.topic, tp.partition, it->second, *high, std::max<std::int64_t>(0, *high - it->second)});
    }
  }
  rd_kafka_topic_partition_list_destroy(assigned);
  return out;
}

std::optional<std::int64_t> Consumer::cached_end(const std::string& topic, int partition) const {
  std::int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
  if (rd_kafka_get_watermark_offsets(rk_, topic.c_str(), partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
    return std::nullopt;
  return high;
}

bool Consumer::caught_up() const {
  for (const auto& tp : assigned_)
    if (!at_end_.contains(tp)) return false;
  return true;
}

bool Consumer::group_caught_up() {
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned) return false;
  bool all = assigned->cnt > 0;
  std::set<std::pair<std::string, int>> held;
  for (int i = 0; i < assigned->cnt; ++i) {
    std::pair<std::string, int> partition{assigned->elems[i].topic, assigned->elems[i].partition};
    if (!at_end_.contains(partition)) all = false;
    held.insert(std::move(partition));
  }
  rd_kafka_topic_partition_list_destroy(assigned);
  std::erase_if(at_end_, [&](const auto& p) { return !held.contains(p); });  // revoked since
  return all;
}

rd_kafka_topic_partition_list_t* Consumer::next_offsets(const std::vector<Message>& messages) {
  std::map<std::pair<std::string, int>, std::int64_t> next;
  for (const auto& m : messages) {
    auto& n = next[{m.topic, m.partition}];
    n = std::max(n, m.offset + 1);
  }
  auto* list = rd_kafka_topic_partition_list_new(int(next.size()));
  for (const auto& [tp, offset] : next)
    rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = offset;
  return list;
}

Result<void> Consumer::commit(const std::vector<Message>& processed) {
  if (processed.empty()) return {};
  auto* list = next_offsets(processed);
  const auto err = rd_kafka_commit(rk_, list, 0 /* synchronous */);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return make_error("kafka_commit", std::string("cannot commit offsets: ") + rd_kafka_err2str(err));
  return {};
}

Result<void> Consumer::commit(const std::vector<PartitionOffset>& positions) {
  if (positions.empty()) return {};
  auto* list = rd_kafka_topic_partition_list_new(int(positions.size()));
  for (const auto& p : positions) rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.offset;
  const auto err = rd_kafka_commit(rk_, list, 0 /* synchronous */);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return make_error("kafka_commit", std::string("cannot commit offsets: ") + rd_kafka_err2str(err));
  return {};
}

namespace {

// The assigned partitions of `topic` (caller owns the list).
rd_kafka_topic_partition_list_t* assigned_of(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_partition_list_t* all = nullptr;
  auto* out = rd_kafka_topic_partition_list_new(8);
  if (rd_kafka_assignment(rk, &all) != RD_KAFKA_RESP_ERR_NO_ERROR || !all) return out;
  for (int i = 0; i < all->cnt; ++i)
    if (topic == all->elems[i].topic) rd_kafka_topic_partition_list_add(out, all->elems[i].topic, all->elems[i].partition);
  rd_kafka_topic_partition_list_destroy(all);
  return out;
}

}  // namespace

Result<void> Consumer::pause(const std::string& topic) {
  auto* list = assigned_of(rk_, topic);
  const auto err = list->cnt ? rd_kafka_pause_partitions(rk_, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return make_error("kafka_pause", "cannot pause " + topic + ": " + rd_kafka_err2str(err));
  return {};
}

Result<void> Consumer::resume(const std::string& topic) {
  auto* list = assigned_of(rk_, topic);
  const auto err = list->cnt ? rd_kafka_resume_partitions(rk_, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return make_error("kafka_resume", "cannot resume " + topic + ": " + rd_kafka_err2str(err));
  return {};
}

Result<void> Consumer::rewind(const std::vector<Message>& batch) {
  std::map<std::pair<std::string, int>, std::int64_t> first;
  for (const auto& m : batch) {
    auto [it, inserted] = first.emplace(std::pair{m.topic, m.partition}, m.offset);
    if (!inserted) it->second = std::min(it->second, m.offset);
  }
  auto* list = rd_kafka_topic_partition_list_new(int(first.size()));
  for (const auto& [tp, offset] : first)
    rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = offset;
  rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, list, 10000);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) {
    Error out = make_error("kafka_seek", std::string("cannot rewind: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return out;
  }
  for (const auto& [tp, offset] : first) set_position(tp.first, tp.second, offset);
  return {};
}

}  // namespace sunbeam::kafka
