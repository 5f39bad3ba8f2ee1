// One digest delivery: the items one account holds for one channel, folded
// into a single Delivery of event type `digest` (docs/digest.md, "What a
// digest holds"). Pure: no Kafka, no store; the role and the tests share it.
//
// Its data, for the `digest` templates:
//   date, count, items: [{n, event_id, delivery_id, event_type, symbol,
//                         occurred_at, time, data}...]  oldest first, all
//   shown: the first items the SMS lists; more: how many it does not (SMS
//   only; `more` is absent when every item is shown)
// Dispatch reads `items` to give each item its digest's outcome.
//
// Thread safety: const after construction; build() from any thread.
#pragma once

#include "config/config.h"
#include "engine/core/delivery.h"
#include "engine/digest/digest_schedule.h"
#include "templates/template_set.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

// The event type, and the prefix of the event id, of digest deliveries.
inline constexpr std::string_view digest_event_type = "digest";
// "digest:2026-11-25": the event id of that day's digests.
std::string digest_event_id(std::string_view date);

// An item held for the digest: the delivery fanout planned, when it arrived,
// and its place in the store (the later, the fresher its recipient snapshot).
struct HeldItem {
  Delivery delivery;
  std::int64_t arrived_ms = 0;
  std::int64_t seq = 0;
};

// What one digest is built for.
struct DigestFrame {
  std::string date;               // YYYY-MM-DD
  std::int64_t send_at_ms = 0;    // that day's digest_time: the digest's occurred_at
  std::int64_t expires_at_ms = 0; // the cut-off it must be sent by
  std::int64_t now_ms = 0;        // when it is built: its published_at_ms
};

class DigestBuilder {
 public:
  DigestBuilder(const Config& config, const TemplateSet& templates, const DigestSchedule& schedule);

  // `items`: every item of one account and channel, oldest occurred_at first
  // (not empty). The recipient and tier come from the freshest snapshot (the
  // highest seq). An SMS shows as many items, in order, as keep the rendered
  // text (signature included) within sms.max_parts, and counts the rest.
  Delivery build(const DigestFrame& frame, const std::vector<HeldItem>& items) const;

 private:
  // Sets data.shown and data.more; counts parts with the `digest` SMS
  // template exactly as dispatch will render it.
  void fit_sms(Delivery& d) const;
  bool fits(const Delivery& d) const;

  const Config& config_;
  const TemplateSet& templates_;
  const DigestSchedule& schedule_;
};


}  // namespace sunbeam
