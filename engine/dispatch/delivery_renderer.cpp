#include "engine/dispatch/dispatch_role.h"

namespace sunbeam {
DeliveryRenderer::DeliveryRenderer(const Config& config, const TemplateSet& templates)
    : config_(config), templates_(templates) {}

Result<OutboundMessage> DeliveryRenderer::render(const Delivery& d) const {
  // The pre-market digest is not a configured event type: it has its own template, never marketing.
  const bool digest = d.event_type == digest_template;
  const EventTypeConfig* type = digest ? nullptr : config_.event_type(d.event_type);
  if (!digest && !type) return make_error("template", "event type " + d.event_type + " is no longer configured");
  const auto own = template_own_vars(d);
  auto rendered = templates_.render(RenderRequest{digest ? digest_template : std::string_view(type->template_name),
                                                  d.recipient.locale, d.channel, own, !digest && type->marketing, &d.data},
                                    config_.sms, config_.defaults.locale);
  if (!rendered) return make_error("template", rendered.error().message);

  OutboundMessage m;
  m.delivery_id = d.delivery_id;
  m.event_id = d.event_id;
  m.account = d.account;
  m.channel = d.channel;
  m.to = d.recipient.address;
  if (d.channel == Channel::sms) {
    if (rendered->sms.parts > config_.sms.max_parts)
      return make_error("too_long", "the SMS is " + std::to_string(rendered->sms.parts) + " parts; sms.max_parts is " +
                                        std::to_string(config_.sms.max_parts));
    m.body = std::move(rendered->text);
    m.parts = rendered->sms.parts;
    m.encoding = std::string(to_string(rendered->sms.encoding));
  } else {
    m.subject = std::move(rendered->subject);
    m.body = std::move(rendered->text);
    m.html = std::move(rendered->html);
    m.parts = 1;
  }
  return m;
}

}  // namespace sunbeam
