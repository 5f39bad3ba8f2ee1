// Audience resolution: who hears of an event, on which channel, or why not.
// Pure (no Kafka, no clock): the fanout role streams its output into a
// transaction, `sunbeam preview` and the tests call it directly.
//
// The rules, in order (docs/fanout.md explains them for operators):
//  1. Candidates: the accounts the event names (`audience.accounts`), else by
//     the type's audience kind: every subscriber (all, tiers), the symbol's
//     holders, or its watchers. `audience.tiers` narrows any of these.
//  2. Entitlement: a tier absent from the type's `channels` is not entitled.
//     Broadcasts (all, tiers) skip such subscribers silently; targeted
//     audiences (holders, watchers, named accounts) record them
//     `suppressed: entitlement`, because someone asked for them by name or holding.
//  3. Channels: the type's channels for the tier that the subscriber chose.
//  4. Refusals, each recorded `suppressed` with its reason: `opt_out` (the
//     channel or the event type), `no_address` (no mobile or e-mail for it).
//     A named account the directory does not know: `unknown_account`.
//  5. A digest type at normal priority is held for the digest; urgent never is.
//
// Thread safety: const after construction; plan() may run on many threads.
#pragma once

#include "config/config.h"
#include "engine/core/delivery.h"
#include "engine/core/event.h"
#include "engine/core/status_record.h"
#include "engine/directory/directory.h"

#include <functional>
#include <string>

namespace sunbeam {

struct PlannedDelivery {
  Delivery delivery;
  DeliveryState state = DeliveryState::planned;  // planned, digest or suppressed
  std::string reason;                             // for suppressed
  std::size_t tier_index = 0;
};

using PlannedDeliverySink = std::function<void(PlannedDelivery&&)>;

class AudiencePlanner {
 public:
  AudiencePlanner(const Config& config, const Directory& directory);

  // Streams every delivery of `event` into `sink` (a million-subscriber
  // fan-out is never held in memory at once) and returns the per-tier and
  // per-channel counts for the event's fan-out summary.
  FanoutSummary plan(const Event& event, const PlannedDeliverySink& sink) const;

 private:
  struct Context;
  void plan_subscriber(const Context& ctx, const Subscriber& s, const NamedAccount* named) const;

  const Config& config_;
  const Directory& directory_;
};

}  // namespace sunbeam
