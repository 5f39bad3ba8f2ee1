// The progress of one event's deliveries, per tier and channel, built from
// `status` records: what `sunbeam status` prints and GET /v1/events/{id} returns.
#pragma once

#include "engine/core/status_record.h"

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace sunbeam {

struct StateCounts {
  std::int64_t planned = 0;   // deliveries fanout planned in this group (all of them)
  std::int64_t digest = 0;    // of which held for the digest (at fan-out)
  bool summed = false;        // totals(): `digest` already holds the groups' held()
  std::array<std::int64_t, delivery_state_count> by_state{};  // latest state of each recorded delivery
  std::map<std::string, std::int64_t> suppressed_by_reason;

  std::int64_t count(DeliveryState s) const { return by_state[std::size_t(s)]; }
  std::int64_t terminal() const;
  // Planned for dispatch but with no outcome recorded yet (or re-queued by a replay).
  std::int64_t waiting() const;
  // Held for the digest now: the records the digest makes for an item
  // (sent, expired, cancelled, ...) take it out. Fanout holds a whole event
  // or none of it (urgent skips the digest), so the records of a group
  // beyond its suppressions and its direct deliveries are its items'.
  std::int64_t held() const;
};

struct EventStatus {
  std::string event_id;
  std::string event_type;
  bool fanned_out = false;
  int fanouts = 0;  // fan-out summaries seen: more than 1 means the event was fanned out twice
  std::map<std::pair<std::string, std::string>, StateCounts> groups;  // (tier, channel)

  StateCounts totals() const;
  // Fanned out, and every delivery terminal or held for the digest.
  bool settled() const;
  // Nothing in flight: every delivery terminal, held for the digest, or
  // deferred (quiet hours, a retry's back-off) to a later time.
  bool at_rest() const;
  boost::json::object to_json() const;
};

// Applies status records to an EventStatus; one per event, single-threaded.
class EventStatusBuilder {
 public:
  explicit EventStatusBuilder(std::string event_id);
  void apply(const FanoutSummary& summary);
  // `previous` is the delivery's last state, if it had one.
  void apply(const StatusRecord& record, std::optional<DeliveryState> previous);
  const EventStatus& status() const { return status_; }

 private:
  EventStatus status_;
};

}  // namespace sunbeam
