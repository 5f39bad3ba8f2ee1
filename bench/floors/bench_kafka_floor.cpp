// bench_kafka_floor: the raw Kafka floor. librdkafka alone, with the settings
// sunbeam's own clients use, produces N records of S bytes to a fresh topic,
// waits for every delivery report, then reads them all back in a consumer
// group, committing as dispatch does. Whatever sunbeam adds on top of Kafka
// is measured against this.
//
//   bench_kafka_floor --brokers B --messages N --size S [--partitions 3]
//                     [--topic-prefix P] [--no-transaction] [--keep-topic]
//
// Producer, as fanout's (engine/kafka/producer.cpp, Mode::transactional):
//   enable.idempotence=true, acks=all, linger.ms=5, compression.type=lz4,
//   message.timeout.ms=120000, transactional.id, transaction.timeout.ms=300000;
//   all N records in one transaction (fanout puts one event's deliveries,
//   however many, in one), keyed by account. --no-transaction: idempotent
//   only, as dispatch's status producer.
// Consumer, as dispatch's (engine/kafka/consumer.cpp):
//   enable.auto.commit=false, enable.auto.offset.store=false,
//   auto.offset.reset=earliest, isolation.level=read_committed,
//   enable.partition.eof=true, fetch.wait.max.ms=50, fetch.error.backoff.ms=50,
//   session.timeout.ms=10000, heartbeat.interval.ms=1000; offsets committed
//   synchronously every 200 ms (dispatch's housekeeping) and at the end.
// Everything else is librdkafka's default, as it is for sunbeam.
//
// The consumer joins its group and has its partitions before the produce
// starts, as dispatch is running before an event is published: the group
// join is not part of the consume time. The topic is
// <prefix><pid>-<time>, created with P partitions, and deleted at the end
// with the consumer group (--keep-topic leaves both).
//
// Last stdout line: {"messages","bytes","message_bytes","partitions",
// "transactional","produce_seconds","produce_rate","consume_seconds",
// "consume_rate","first_record_seconds","total_seconds","rate","cpu_seconds",
// "peak_rss_mib","topic","topic_deleted"}; rate = messages / (produce +
// consume seconds).
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int admin_timeout_ms = 15000;

struct Options {
  std::string brokers;
  long messages = 0;
  int size = 600;
  int partitions = 3;
  std::string topic_prefix = "bench-kafka-floor-";
  bool transactional = true;
  bool keep_topic = false;
};

// A failure that ends the run: main prints it and exits 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

__attribute__((format(printf, 1, 2))) void progress(const char* fmt, ...) {
  std::va_list args;
  va_start(args, fmt);
  std::fprintf(stderr, "bench_kafka_floor: ");
  std::vfprintf(stderr, fmt, args);
  std::fputc('\n', stderr);
  va_end(args);
}

rd_kafka_conf_t* make_conf(const Options& o, const std::vector<std::pair<const char*, std::string>>& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw Failure(std::string("kafka property ") + k + "=" + v + ": " + err);
    }
  };
  set("bootstrap.servers", o.brokers);
  set("log_level", "3");  // errors only: progress lines are ours
  for (const auto& [k, v] : props) set(k, v);
  return conf;
}

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

Handle make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw Failure(std::string("cannot create a Kafka client: ") + err);
  }
  return Handle(rk, &rd_kafka_destroy);
}

// Runs one admin request (queued on `queue`) and returns its event, or throws.
std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> admin_result(rd_kafka_queue_t* queue,
                                                                                   const std::string& what) {
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, admin_timeout_ms + 5000);
  if (!ev) throw Failure("no answer from Kafka while " + what + " (is the broker up?)");
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> guard(ev, &rd_kafka_event_destroy);
  if (rd_kafka_event_error(ev)) throw Failure(what + ": " + rd_kafka_event_error_string(ev));
  return guard;
}

void create_topic(rd_kafka_t* rk, const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  if (!nt) throw Failure("topic " + topic + ": " + err);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, admin_timeout_ms, err, sizeof err);
  rd_kafka_CreateTopics(rk, &nt, 1, options, queue);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(nt);
  std::string problem;
  try {
    auto ev = admin_result(queue, "creating topic " + topic);
    size_t n = 0;
    const auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i)
      if (const auto code = rd_kafka_topic_result_error(results[i]))
        problem = "creating topic " + topic + ": " + rd_kafka_err2str(code);
  } catch (const Failure& f) {
    problem = f.what();
  }
  rd_kafka_queue_destroy(queue);
  if (!problem.empty()) throw Failure(problem);
}

// Waits (bounded) until the producer's metadata has the topic with a leader
// for every partition, as sunbeam's producers warm up before their first
// record: the first records' wait for metadata is not part of the produce time.
void warm_up(rd_kafka_t* rk, const std::string& topic, int partitions) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  bool ready = false;
  while (!ready && Clock::now() < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, handle, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ready = md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt == partitions;
      for (int p = 0; ready && p < md->topics[0].partition_cnt; ++p) ready = md->topics[0].partitions[p].leader >= 0;
      rd_kafka_metadata_destroy(md);
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(handle);
  if (!ready) throw Failure("topic " + topic + " has no leader for all its partitions after 30 s");
}

// Deletes the topic and the consumer group; true when both went. Best effort:
// a leftover is reported, not fatal (its name is unique).
bool delete_topic_and_group(rd_kafka_t* rk, const std::string& topic, const std::string& group) {
  char err[512];
  bool ok = true;
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  {
    rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, admin_timeout_ms, err, sizeof err);
    rd_kafka_DeleteTopics(rk, &dt, 1, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_DeleteTopic_destroy(dt);
    try {
      auto ev = admin_result(queue, "deleting topic " + topic);
      size_t n = 0;
      const auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
      for (size_t i = 0; i < n; ++i)
        if (const auto code = rd_kafka_topic_result_error(results[i])) {
          progress("topic %s left behind: %s", topic.c_str(), rd_kafka_err2str(code));
          ok = false;
        }
    } catch (const Failure& f) {
      progress("topic %s left behind: %s", topic.c_str(), f.what());
      ok = false;
    }
  }
  {
    rd_kafka_DeleteGroup_t* dg = rd_kafka_DeleteGroup_new(group.c_str());
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_DeleteGroups(rk, &dg, 1, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_DeleteGroup_destroy(dg);
    try {
      auto ev = admin_result(queue, "deleting consumer group " + group);
      size_t n = 0;
      const auto** results = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
      for (size_t i = 0; i < n; ++i)
        if (const rd_kafka_error_t* e = rd_kafka_group_result_error(results[i])) {
          progress("consumer group %s left behind: %s", group.c_str(), rd_kafka_error_string(e));
          ok = false;
        }
    } catch (const Failure& f) {
      progress("consumer group %s left behind: %s", group.c_str(), f.what());
      ok = false;
    }
  }
  rd_kafka_queue_destroy(queue);
  return ok;
}

// Records shaped like the delivery records fanout writes to a tier topic
// (engine/core/delivery.cpp to_json: ids, event, tier, recipient snapshot,
// the event's data), padded to exactly `size` bytes in the data's summary.
// Each record gets its own delivery id, account (the key), name and mobile,
// so lz4 sees what it sees in a real fan-out: one event's data, many recipients.
class RecordMaker {
 public:
  explicit RecordMaker(int size) : size_(std::size_t(size)) {
    const std::string head =
        R"({"delivery_id":"################################","event_id":"bench-floor-market-summary-0001",)"
        R"("event_type":"market_summary","account":"A########","tier":"advisor","channel":"sms",)"
        R"("priority":"normal","occurred_at":"2026-06-11T15:05:00+08:00","attempt":1,)"
        R"("published_at_ms":1781161500123,"recipient":{"name":"###","address":"+8613#########",)"
        R"("locale":"zh-CN","timezone":"Asia/Shanghai"},"data":{"title":"沪指收涨0.8%",)"
        R"("shanghai":"3125.42","shenzhen":"10234.18","chinext":"2045.77","summary":")";
    const std::string tail = R"("}})";
    if (size_ < head.size() + tail.size())
      throw Failure("--size " + std::to_string(size_) + " is smaller than a delivery record (at least " +
                    std::to_string(head.size() + tail.size()) + " bytes)");
    // Chinese market prose, then ASCII to land on the exact size.
    static const std::string prose = "今日两市震荡走高，半导体、券商板块领涨，北向资金净流入35.2亿元。";
    std::string pad;
    const std::size_t room = size_ - head.size() - tail.size();
    while (pad.size() + prose.size() <= room) pad += prose;
    pad.append(room - pad.size(), '.');
    record_ = head + pad + tail;
    id_at_ = record_.find("################################");
    account_at_ = record_.find("A########") + 1;
    name_at_ = record_.find("\"###\"") + 1;
    mobile_at_ = record_.find("+8613#########") + 5;
  }

  // The record for message i (valid until the next call) and its key.
  std::string_view make(std::uint64_t i) {
    static const char* hex = "0123456789abcdef";
    // A 128-bit-looking id from i, mixed (splitmix64) so ids do not share prefixes.
    std::uint64_t a = mix(i), b = mix(i ^ 0x9e3779b97f4a7c15ULL);
    for (int k = 0; k < 16; ++k) record_[id_at_ + k] = hex[(a >> (60 - 4 * k)) & 15];
    for (int k = 0; k < 16; ++k) record_[id_at_ + 16 + k] = hex[(b >> (60 - 4 * k)) & 15];
    put_digits(account_at_, 8, i);
    put_digits(mobile_at_, 9, i * 7919 % 1'000'000'000);
    static const char* surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"};  // 3 bytes each
    record_.replace(name_at_, 3, surnames[i % 10]);
    return record_;
  }
  std::string_view key() const { return std::string_view(record_).substr(account_at_ - 1, 9); }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  void put_digits(std::size_t at, int width, std::uint64_t v) {
    for (int k = width - 1; k >= 0; --k, v /= 10) record_[at + std::size_t(k)] = char('0' + v % 10);
  }

  std::size_t size_;
  std::string record_;
  std::size_t id_at_ = 0, account_at_ = 0, name_at_ = 0, mobile_at_ = 0;
};

struct DeliveryCounts {
  std::atomic<long> ok{0}, failed{0};
  std::string first_error;  // written once, by the polling thread
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* counts = static_cast<DeliveryCounts*>(opaque);
  if (m->err) {
    if (counts->failed++ == 0) counts->first_error = rd_kafka_err2str(m->err);
  } else {
    ++counts->ok;
  }
}

void check_txn(rd_kafka_error_t* e, const char* what) {
  if (!e) return;
  std::string message = std::string(what) + ": " + rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
  throw Failure(message);
}

// The partitions the consumer has, waiting (bounded) until it has all of them.
rd_kafka_topic_partition_list_t* wait_for_assignment(rd_kafka_t* consumer, int partitions) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100)) {
      // Only partition-end events can come: the topic is empty.
      if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        progress("while joining: %s", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(consumer, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR && assigned) {
      if (assigned->cnt == partitions) return assigned;
      rd_kafka_topic_partition_list_destroy(assigned);
    }
  }
  throw Failure("the consumer was not given the topic's " + std::to_string(partitions) + " partitions within 60 s");
}

void commit(rd_kafka_t* consumer, const std::vector<std::int64_t>& next, const std::string& topic) {
  auto* list = rd_kafka_topic_partition_list_new(int(next.size()));
  for (std::size_t p = 0; p < next.size(); ++p)
    if (next[p] >= 0) rd_kafka_topic_partition_list_add(list, topic.c_str(), int(p))->offset = next[p];
  const auto err = list->cnt ? rd_kafka_commit(consumer, list, 0 /* synchronous, as dispatch */) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(list);
  if (err) throw Failure(std::string("cannot commit offsets: ") + rd_kafka_err2str(err));
}

int run(const Options& o) {
  const std::string stamp = std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr));
  const std::string topic = o.topic_prefix + stamp;
  const std::string group = topic + "-group";
  RecordMaker records(o.size);  // checks --size before anything touches Kafka

  DeliveryCounts counts;
  std::vector<std::pair<const char*, std::string>> producer_props{
      {"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}, {"compression.type", "lz4"},
      {"message.timeout.ms", "120000"}, {"client.id", "bench-kafka-floor-producer"}};
  if (o.transactional) {
    producer_props.emplace_back("transactional.id", topic + "-txn");
    producer_props.emplace_back("transaction.timeout.ms", "300000");
  }
  rd_kafka_conf_t* pconf = make_conf(o, producer_props);
  rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
  rd_kafka_conf_set_opaque(pconf, &counts);
  Handle producer = make_client(RD_KAFKA_PRODUCER, pconf);

  const rd_kafka_metadata_t* md = nullptr;
  if (const auto err = rd_kafka_metadata(producer.get(), 0, nullptr, &md, 10000))
    throw Failure("Kafka at " + o.brokers + " does not answer: " + rd_kafka_err2str(err));
  rd_kafka_metadata_destroy(md);
  progress("creating %s with %d partitions at %s", topic.c_str(), o.partitions, o.brokers.c_str());
  create_topic(producer.get(), topic, o.partitions);

  bool deleted = false;
  double produce_s = 0, consume_s = 0, first_record_s = 0, cpu_s = 0;
  long consumed = 0;
  long long consumed_bytes = 0;
  std::string failure;
  try {
    Handle consumer = make_client(
        RD_KAFKA_CONSUMER, make_conf(o, {{"group.id", group},
                                         {"client.id", "bench-kafka-floor-consumer"},
                                         {"enable.auto.commit", "false"},
                                         {"enable.auto.offset.store", "false"},
                                         {"auto.offset.reset", "earliest"},
                                         {"isolation.level", "read_committed"},
                                         {"enable.partition.eof", "true"},
                                         {"fetch.wait.max.ms", "50"},
                                         {"fetch.error.backoff.ms", "50"},
                                         {"session.timeout.ms", "10000"},
                                         {"heartbeat.interval.ms", "1000"}}));
    rd_kafka_poll_set_consumer(consumer.get());
    auto* subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
    const auto sub_err = rd_kafka_subscribe(consumer.get(), subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (sub_err) throw Failure(std::string("cannot subscribe: ") + rd_kafka_err2str(sub_err));
    progress("joining consumer group %s", group.c_str());
    rd_kafka_topic_partition_list_t* assigned = wait_for_assignment(consumer.get(), o.partitions);
    // Without a transaction the consumer would fetch records as they are
    // produced: paused until the produce ends. With one, read_committed shows
    // nothing before the commit, so it waits unpaused, as dispatch does (a
    // resume costs the first fetch ~0.6-0.9 s with this librdkafka, which
    // dispatch never pays: --no-transaction's consume time includes it, see
    // first_record_seconds).
    if (!o.transactional) rd_kafka_pause_partitions(consumer.get(), assigned);

    if (o.transactional) check_txn(rd_kafka_init_transactions(producer.get(), admin_timeout_ms), "init_transactions");
    warm_up(producer.get(), topic, o.partitions);

    // ---- produce ----
    progress("producing %ld records of %d bytes", o.messages, o.size);
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    if (o.transactional) check_txn(rd_kafka_begin_transaction(producer.get()), "begin_transaction");
    for (long i = 0; i < o.messages; ++i) {
      const std::string_view value = records.make(std::uint64_t(i));
      const std::string_view key = records.key();
      for (;;) {
        const auto err = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (!err) break;
        // A full queue drains as the broker acknowledges (sunbeam waits 2 ms
        // while its poll thread serves the reports; here we serve them).
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw Failure(std::string("produce: ") + rd_kafka_err2str(err));
        rd_kafka_poll(producer.get(), 2);
      }
      rd_kafka_poll(producer.get(), 0);  // serve delivery reports as they come
    }
    if (o.transactional) {
      check_txn(rd_kafka_commit_transaction(producer.get(), 300000), "commit_transaction");  // flushes first
    } else if (const auto err = rd_kafka_flush(producer.get(), 300000)) {
      throw Failure(std::string("flush: ") + rd_kafka_err2str(err));
    }
    rd_kafka_poll(producer.get(), 0);
    produce_s = seconds_since(t0);
    if (counts.failed) throw Failure(std::to_string(counts.failed) + " records not stored: " + counts.first_error);
    if (counts.ok != o.messages)
      throw Failure(std::to_string(counts.ok.load()) + " delivery reports for " + std::to_string(o.messages) + " records");
    progress("produced in %.2f s (%.0f/s)", produce_s, double(o.messages) / produce_s);

    // ---- consume ----
    const auto t1 = Clock::now();
    if (!o.transactional) rd_kafka_resume_partitions(consumer.get(), assigned);
    rd_kafka_topic_partition_list_destroy(assigned);
    std::vector<std::int64_t> next(std::size_t(o.partitions), -1);
    auto last_commit = t1, last_progress = t1;
    while (consumed < o.messages) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
      const auto now = Clock::now();
      if (m) {
        if (!m->err) {
          if (consumed == 0) first_record_s = seconds_since(t1);
          ++consumed;
          consumed_bytes += (long long)m->len;
          if (m->partition >= 0 && m->partition < o.partitions) next[std::size_t(m->partition)] = m->offset + 1;
          last_progress = now;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          progress("consume: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
      }
      if (now - last_commit >= std::chrono::milliseconds(200)) {
        commit(consumer.get(), next, topic);
        last_commit = now;
      }
      if (now - last_progress > std::chrono::seconds(30))
        throw Failure("consume: nothing new for 30 s after " + std::to_string(consumed) + " of " +
                      std::to_string(o.messages) + " records");
    }
    commit(consumer.get(), next, topic);
    consume_s = seconds_since(t1);
    cpu_s = cpu_seconds() - cpu0;
    progress("consumed in %.2f s (%.0f/s), the first record after %.3f s", consume_s, double(consumed) / consume_s,
             first_record_s);
    rd_kafka_consumer_close(consumer.get());
  } catch (const Failure& f) {
    failure = f.what();
  }
  if (!o.keep_topic) deleted = delete_topic_and_group(producer.get(), topic, group);
  if (!failure.empty()) throw Failure(failure);

  const double total = produce_s + consume_s;
  std::printf(
      "{\"messages\": %ld, \"bytes\": %lld, \"message_bytes\": %d, \"partitions\": %d, \"transactional\": %s, "
      "\"produce_seconds\": %.3f, \"produce_rate\": %.0f, \"consume_seconds\": %.3f, \"consume_rate\": %.0f, "
      "\"first_record_seconds\": %.3f, \"total_seconds\": %.3f, \"rate\": %.0f, \"cpu_seconds\": %.3f, "
      "\"peak_rss_mib\": %.1f, \"topic\": \"%s\", "
      "\"topic_deleted\": %s}\n",
      consumed, consumed_bytes, o.size, o.partitions, o.transactional ? "true" : "false", produce_s,
      double(o.messages) / produce_s, consume_s, double(consumed) / consume_s, first_record_s, total,
      double(o.messages) / total, cpu_s, peak_rss_mib(), topic.c_str(), deleted ? "true" : "false");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"bench_kafka_floor: raw librdkafka produce-then-consume with sunbeam's client settings"};
  app.add_option("--brokers", o.brokers, "bootstrap servers, e.g. 127.0.0.1:29092")->required();
  app.add_option("--messages", o.messages, "records to produce and consume")->required()->check(CLI::Range(1L, 1'000'000'000L));
  app.add_option("--size", o.size, "bytes per record (a delivery record is ~600)")->check(CLI::Range(1, 1'000'000));
  app.add_option("--partitions", o.partitions, "partitions of the fresh topic")->check(CLI::Range(1, 1000));
  app.add_option("--topic-prefix", o.topic_prefix, "the topic is <prefix><pid>-<unix time>");
  app.add_flag("!--no-transaction", o.transactional, "idempotent producer without a transaction");
  app.add_flag("--keep-topic", o.keep_topic, "leave the topic and the consumer group");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const Failure& f) {
    std::fprintf(stderr, "bench_kafka_floor: %s\n", f.what());
    return 1;
  }
}
