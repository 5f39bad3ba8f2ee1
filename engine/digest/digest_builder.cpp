#include "engine/digest/digest_builder.h"

#include "engine/core/time_format.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sunbeam {

namespace json = boost::json;

std::string digest_event_id(std::string_view date) {
  std::string id(digest_event_type);
  id.append(":").append(date);
  return id;
}

DigestBuilder::DigestBuilder(const Config& config, const TemplateSet& templates, const DigestSchedule& schedule)
    : config_(config), templates_(templates), schedule_(schedule) {}

Delivery DigestBuilder::build(const DigestFrame& frame, const std::vector<HeldItem>& items) const {
  const auto by_seq = [](const HeldItem& a, const HeldItem& b) { return a.seq < b.seq; };
  const Delivery& freshest = std::max_element(items.begin(), items.end(), by_seq)->delivery;
  Delivery d;
  d.event_id = digest_event_id(frame.date);
  d.event_type = std::string(digest_event_type);
  d.account = freshest.account;
  d.channel = freshest.channel;
  d.delivery_id = make_delivery_id(d.event_id, d.account, d.channel);
  d.tier = freshest.tier;
  d.priority = Priority::normal;
  d.occurred_at = format_rfc3339_utc(frame.send_at_ms);
  d.expires_at = format_rfc3339_utc(frame.expires_at_ms);
  d.expires_at_ms = frame.expires_at_ms;
  d.recipient = freshest.recipient;
  d.published_at_ms = frame.now_ms;

  json::array list;
  list.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Delivery& item = items[i].delivery;
    const auto occurred = parse_rfc3339_ms(item.occurred_at);
    list.push_back(json::object{{"n", std::int64_t(i + 1)},
                                {"event_id", item.event_id},
                                {"delivery_id", item.delivery_id},
                                {"event_type", item.event_type},
                                {"symbol", item.symbol},
                                {"occurred_at", item.occurred_at},
                                {"time", occurred ? schedule_.local_minute(*occurred) : item.occurred_at},
                                {"data", item.data}});
  }
  d.data = json::object{{"date", frame.date}, {"count", std::int64_t(items.size())}, {"items", std::move(list)}};
  if (d.channel == Channel::sms) fit_sms(d);
  return d;
}

bool DigestBuilder::fits(const Delivery& d) const {
  const auto vars = template_vars(d);
  const auto rendered = templates_.render(RenderRequest{digest_template, d.recipient.locale, Channel::sms, vars, false},
                                          config_.sms, config_.defaults.locale);
  return rendered && !rendered->short_variant && rendered->sms.parts <= config_.sms.max_parts;
}

void DigestBuilder::fit_sms(Delivery& d) const {
  const std::size_t count = d.data.at("items").as_array().size();
  const auto show = [&](std::size_t k) {
    // Looked up each time: adding a key may move the object's values.
    const auto& items = d.data.at("items").as_array();
    json::array shown(items.begin(), items.begin() + std::ptrdiff_t(k));
    d.data["shown"] = std::move(shown);
    if (k < count) d.data["more"] = std::int64_t(count - k);
    else d.data.erase("more");
  };
  show(count);
  if (fits(d)) return;
  // The text grows with each item shown (and the count of the rest shrinks
  // by a digit at most), so the first k that does not fit ends the search.
  std::size_t shown = 0;
  for (std::size_t k = 1; k < count; ++k) {
    show(k);
    if (!fits(d)) break;
    shown = k;
  }
  show(shown);
  if (shown == 0 && !fits(d))
    // Dispatch renders it again and fails it with the reason (a missing
    // template, or too long even as a bare count), recorded for each item and
    // replayable once fixed: better than items held back without a word.
    spdlog::warn("digest: the {} SMS for {} does not fit in sms.max_parts ({}) even with no item shown", d.event_id,
                 d.account, config_.sms.max_parts);
}

}  // namespace sunbeam
