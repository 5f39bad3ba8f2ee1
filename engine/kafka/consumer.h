// A librdkafka consumer, used in one of two ways:
//  - in a consumer group (`subscribe`): fanout and dispatch; offsets are
//    committed explicitly, only after the work they cover is durable;
//  - reading whole topics without a group (`assign_from_beginning`): the status
//    view and ingest's idempotency index rebuild their state from Kafka.
// Reads are read_committed, so aborted fan-out transactions are never seen.
//
// Thread affinity: one thread polls and commits; `close()` from that thread.
// `lag()` alone may be called from any other thread as well (a scrape).
#pragma once

#include "engine/core/result.h"
#include "engine/kafka/client_settings.h"
#include "engine/kafka/message.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_partition_list_s rd_kafka_topic_partition_list_t;

namespace sunbeam::kafka {

class Doorbell;

// How far one assigned partition's reader is behind its end.
struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t position = 0;        // the next offset this consumer will hand out
  std::int64_t high_watermark = 0;  // the partition's end, as of the last fetch
  std::int64_t lag = 0;             // high_watermark - position, never below 0
};

class Consumer {
 public:
  struct Options {
    std::string group_id;         // required for subscribe(); a throwaway one for assign mode
    std::string client_id;
    bool read_committed = true;
  };

  // `static_member`: the group.instance.id this consumer joins its group as,
  // where settings.static_membership allows (the engine's roles pass
  // kafka.instance_id). A static member restarted gets its partitions back at
  // once, where a new member waits for the old one's session to time out
  // (~10 s, bench/lib/crash.py), and they stay with the instance whose local
  // store (dispatch's ledger) knows what was sent from them. It does not
  // leave the group when it closes: an instance stopped for good hands its
  // partitions on after session.timeout.ms. A second process joining as the
  // same member fences the first, which then reads nothing and says why.
  static Result<std::unique_ptr<Consumer>> create(const ClientSettings& settings, const Options& options,
                                                  const std::string& static_member = {});
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  Result<void> subscribe(const std::vector<std::string>& topics);
  // Every partition of `topic`, from the first offset, outside any group.
  Result<void> assign_from_beginning(const std::string& topic);
  // Every partition of each of `topics`, outside any group: from the next
  // offset `from` names for it, else from the first (a local index resuming
  // where it stopped). Replaces any earlier assignment.
  Result<void> assign(const std::vector<std::string>& topics, const std::vector<PartitionOffset>& from);

  // Up to `max` records: waits up to `timeout` for the first, then takes
  // what is already fetched without waiting.
  std::vector<Message> poll_batch(std::size_t max, std::chrono::milliseconds timeout);

  // Rings `bell` each time this consumer's queue goes from empty to not
  // empty (a record, or an event poll_batch serves), from a librdkafka
  // thread, so one thread can wait for several consumers (doorbell.h); a
  // poll_batch that returned nothing leaves the queue empty, so the next
  // arrival rings. nullptr stops it; close() does. The bell must outlive
  // this consumer or be taken off first.
  void ring_on_arrival(Doorbell* bell);

  // Assign mode: true once every assigned partition has reported its end
  // since the last record read from it.
  bool caught_up() const;
  // Group mode: the same for the partitions the group gives this member now
  // (forgetting ends of partitions revoked since); false while it has none.
  // The digest needs it to know that what fanout produced before a run is
  // stored (enable.partition.eof: librdkafka reports the end of a
  // read_committed partition at its last stable offset, past commit markers).
  bool group_caught_up();

  // Commits, synchronously, the offsets after `processed` (per partition).
  Result<void> commit(const std::vector<Message>& processed);
  // Commits, synchronously, explicit positions (the next offset to read).
  Result<void> commit(const std::vector<PartitionOffset>& positions);
  // Stops / restarts fetching from every assigned partition of `topic`
  // (backpressure); poll_batch must still be called to stay in the group.
  Result<void> pause(const std::string& topic);
  Result<void> resume(const std::string& topic);
  // Seeks each partition in `batch` back to its first record there, so a
  // batch whose work was abandoned is read again.
  Result<void> rewind(const std::vector<Message>& batch);

  // Records not yet handed out by poll_batch, per assigned partition.
  //
  // Thread safety: safe from any thread while the poller runs, and it never
  // waits for a broker: the position is the one poll_batch last saw (after
  // its last record, or where it reported the partition's end) and the end is
  // librdkafka's cached high watermark (rd_kafka_get_watermark_offsets, under
  // librdkafka's partition lock), refreshed by every fetch response. We do not
  // use rd_kafka_query_watermark_offsets, a broker round trip of up to its
  // timeout per partition that would stall an HTTP thread scraping /metrics,
  // nor rd_kafka_position alone, which stays unknown until a record has been
  // consumed (a caught-up reader after a restart) and stops one short of the
  // end of a transactional topic (the commit marker takes an offset).
  //
  // What it cannot know: a partition neither read from nor found at its end
  // since it was assigned (the first fetch is under way) is left out, and a
  // paused partition (backpressure) is not fetched, so its end stays as it
  // was when it paused. After a rebalance gives a partition back, its
  // position is the old one until the first record or end is seen there.
  // Transactions in flight count as lag until they commit.
  std::vector<PartitionLag> lag() const;
  // librdkafka's cached high watermark of one partition (as lag() reads it),
  // or nullopt before a fetch has told it.
  std::optional<std::int64_t> cached_end(const std::string& topic, int partition) const;

  void close();
  rd_kafka_t* handle() const { return rk_; }

  // The offsets after `messages`, per partition (caller owns the list).
  static rd_kafka_topic_partition_list_t* next_offsets(const std::vector<Message>& messages);
  // Whether another process joined the group as this static member (any
  // thread; librdkafka's fatal error, which for a consumer is only that).
  bool fenced() const;
  // fenced(), from the polling thread, which the first time says why. A
  // fenced consumer hands out nothing more.
  bool check_fenced();

 private:
  explicit Consumer(rd_kafka_t* rk);
  rd_kafka_t* rk_;
  bool closed_ = false;
  bool fenced_logged_ = false;  // polling thread
  Doorbell* bell_ = nullptr;
  std::set<std::pair<std::string, int>> assigned_;
  std::set<std::pair<std::string, int>> at_end_;
  // Next offset per partition as poll_batch last saw it; read by lag() from other threads.
  mutable std::mutex positions_mutex_;
  std::map<std::pair<std::string, int>, std::int64_t> positions_;
  void set_position(const std::string& topic, int partition, std::int64_t next);
};

}  // namespace sunbeam::kafka
