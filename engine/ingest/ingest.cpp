#include "engine/ingest/ingest.h"

#include "engine/kafka/consumer.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace sunbeam {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xf];
  }
  return out;
}

std::string id_of(const json::value& v) {
  if (!v.is_object()) return {};
  const auto* id = v.get_object().if_contains("id");
  return id && id->is_string() ? std::string(id->get_string()) : std::string();
}

unsigned status_of(const IngestResult& r) {
  switch (r.outcome) {
    case IngestOutcome::accepted:
    case IngestOutcome::duplicate: return 202;
    case IngestOutcome::conflict: return 409;
    case IngestOutcome::unavailable: return r.error && r.error->code == "kafka_busy" ? 429 : 503;
    case IngestOutcome::rejected: return r.error && r.error->code == "too_large" ? 413 : 400;
  }
  return 500;
}

}  // namespace

std::string_view to_string(IngestOutcome o) {
  switch (o) {
    case IngestOutcome::accepted: return "accepted";
    case IngestOutcome::duplicate: return "duplicate";
    case IngestOutcome::rejected: return "rejected";
    case IngestOutcome::conflict: return "conflict";
    case IngestOutcome::unavailable: return "unavailable";
  }
  return "?";
}

json::object IngestResult::to_json() const {
  json::object o{{"id", id}, {"status", to_string(outcome)}};
  if (error) o["error"] = json::object{{"code", error->code}, {"message", error->message}, {"field", error->field}};
  return o;
}

unsigned IngestReply::http_status() const {
  for (const auto& r : results)
    if (r.outcome == IngestOutcome::accepted || r.outcome == IngestOutcome::duplicate) return 202;
  return results.empty() ? 400 : status_of(results.front());
}

std::string IngestReply::body() const {
  if (!batch && results.size() == 1) {
    const auto& r = results.front();
    if (r.error) return json::serialize(json::object{{"id", r.id}, {"status", to_string(r.outcome)},
                                                     {"error", r.to_json().at("error")}});
    return json::serialize(r.to_json());
  }
  json::array list;
  for (const auto& r : results) list.push_back(r.to_json());
  return json::serialize(json::object{{"results", std::move(list)}});
}

Ingest::Ingest(const Config& config, kafka::Producer& producer, kafka::Topics topics)
    : config_(config), producer_(producer), topics_(std::move(topics)) {}

Result<std::size_t> Ingest::rebuild_index(const kafka::ClientSettings& settings) {
  auto consumer = kafka::Consumer::create(settings, {config_.kafka.topic_prefix + "ingest-index",
                                                     config_.kafka.instance_id + "-ingest-index", true});
  if (!consumer) return consumer.error();
  if (auto r = (*consumer)->assign_from_beginning(topics_.events); !r) return r.error();
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  std::size_t n = 0;
  while (!(*consumer)->caught_up()) {
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("kafka_timeout", "reading " + topics_.events + " to rebuild the event-id index took over 120 s");
    for (const auto& m : (*consumer)->poll_batch(5000, 200ms)) {
      boost::system::error_code ec;
      auto v = json::parse(m.value, ec);
      if (ec) continue;
      std::lock_guard lock(mutex_);
      known_[id_of(v)] = Known{sha256_hex(canonical_json(v)), true, {}};
      ++n;
    }
  }
  (*consumer)->close();
  return n;
}

void Ingest::submit(std::string_view body, std::function<void(IngestReply)> done) {
  auto split = split_event_body(body);
  struct Pending {
    IngestReply reply;
    std::atomic<std::size_t> remaining;
    std::function<void(IngestReply)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->reply.batch = split.batch;
  pending->reply.results.resize(split.items.size());
  pending->remaining = split.items.size();
  pending->done = std::move(done);
  for (std::size_t i = 0; i < split.items.size(); ++i) {
    submit_one(split.items[i], [pending, i](IngestResult r) {
      pending->reply.results[i] = std::move(r);
      if (--pending->remaining == 0) pending->done(std::move(pending->reply));
    });
  }
}

void Ingest::submit_one(const BodyItem& item, ResultSlot slot) {
  IngestResult result;
  if (item.error) {
    result.error = item.error;
    return slot(std::move(result));
  }
  result.id = id_of(*item.value);
  auto event = parse_event_json(*item.value, config_);
  if (!event) {
    result.error = event.error();
    return slot(std::move(result));
  }
  // The hash of the event as stored (normalised, keys sorted), so the index
  // rebuilt from the topic at start compares like with like.
  const boost::json::value normalised(to_json(*event));
  const std::string hash = sha256_hex(canonical_json(normalised));
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = known_.try_emplace(event->id, Known{hash, false, {}});
    if (!inserted) {
      Known& k = it->second;
      if (k.body_hash != hash) {
        result.outcome = IngestOutcome::conflict;
        result.error = make_error("conflict", "event id " + event->id + " was already published with another body", "id");
        return slot(std::move(result));
      }
      if (k.durable) {
        result.outcome = IngestOutcome::duplicate;
        return slot(std::move(result));
      }
      // The same event is being produced right now: answer with its fate.
      k.waiters.push_back([result, slot](IngestOutcome first) mutable {
        result.outcome = first == IngestOutcome::accepted ? IngestOutcome::duplicate : first;
        if (first != IngestOutcome::accepted)
          result.error = make_error("kafka_unavailable", "the event could not be stored in Kafka; publish it again");
        slot(std::move(result));
      });
      return;
    }
  }
  const std::string value = json::serialize(normalised);
  // Ingest is behind when Kafka has not answered for too many events: say
  // "busy" (429, Retry-After) rather than queue without bound.
  Result<void> produced = make_error("kafka_busy", "ingest is behind: " + std::to_string(unacknowledged_.load()) +
                                                       " events wait for Kafka; retry shortly");
  if (++unacknowledged_ > config_.api.max_pending_events) {
    --unacknowledged_;
  } else {
    produced = producer_.produce(
      topics_.events, event->id, value,
      [this, id = event->id, hash, result, slot](Result<void> r) mutable {
        --unacknowledged_;
        finish_produce(id, hash, r);
        if (r) {
          result.outcome = IngestOutcome::accepted;
        } else {
          result.outcome = IngestOutcome::unavailable;
          result.error = make_error("kafka_unavailable", r.error().message + "; publish it again");
        }
        slot(std::move(result));
      },
      kafka::QueueFull::fail);
    if (!produced) --unacknowledged_;
  }
  if (!produced) {
    finish_produce(event->id, hash, produced);
    result.outcome = IngestOutcome::unavailable;
    result.error = make_error(produced.error().code == "kafka_busy" ? "kafka_busy" : "kafka_unavailable",
                              produced.error().message);
    slot(std::move(result));
  }
}

void Ingest::finish_produce(const std::string& id, const std::string& hash, Result<void> produced) {
  std::vector<std::function<void(IngestOutcome)>> waiters;
  {
    std::lock_guard lock(mutex_);
    const auto it = known_.find(id);
    if (it == known_.end() || it->second.body_hash != hash) return;
    waiters = std::move(it->second.waiters);
    if (produced) {
      it->second.durable = true;
      it->second.waiters.clear();
    } else {
      known_.erase(it);  // not stored: the same id may be published again
    }
  }
  for (auto& w : waiters) w(produced ? IngestOutcome::accepted : IngestOutcome::unavailable);
}

bool Ingest::published(const std::string& event_id) {
  std::lock_guard lock(mutex_);
  const auto it = known_.find(event_id);
  return it != known_.end() && it->second.durable;
}

}  // namespace sunbeam
