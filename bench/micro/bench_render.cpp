// Rendering with the project's own templates (templates/messages): a zh-CN
// SMS (risk_alert, urgent, to 王芳) and an en e-mail (ipo_subscription:
// subject, text and HTML parts, to Alice Wong).
//  - TemplateSet::render with the variables already built;
//  - DeliveryRenderer::render, dispatch's whole path for one delivery
//    (template variables from the delivery, render, the SMS part limit, the
//    connector's message), with the Config built in code;
//  - the delivery record: serialize() (fanout) and parse_delivery()
//    (dispatch), against boost::json::parse of the same record;
//  - baseline: kainjow::mustache rendering the same template text with the
//    data already converted, the library alone (no JSON conversion, folding,
//    signature or part counting, no lock).
#include "bench/micro/fixtures.h"
#include "engine/core/delivery.h"
#include "engine/core/event.h"
#include "engine/dispatch/dispatch_role.h"
#include "templates/email_template.h"
#include "templates/mustache_data.h"

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <kainjow/mustache.hpp>

namespace sunbeam::bench {
namespace {

struct Case {
  std::string event_json;
  const char* template_name;
  const char* locale;
  Channel channel;
  const char* name;
  const char* address;
};

const Case sms_zh{risk_alert_json(), "risk_alert", "zh-CN", Channel::sms, "王芳", "+8613800138002"};
const Case email_en{ipo_event_json(), "ipo_subscription", "en", Channel::email, "Alice Wong", "c1042@example.com"};

// A delivery as the planner builds it for this case.
Delivery delivery(const Case& c) {
  auto event = parse_event(c.event_json, config());
  if (!event) {
    std::fprintf(stderr, "bench_micro: %s\n", event.error().message.c_str());
    std::exit(1);
  }
  Delivery d;
  d.delivery_id = make_delivery_id(event->id, "C1042", c.channel);
  d.event_id = event->id;
  d.event_type = event->type;
  d.account = "C1042";
  d.tier = "advisor";
  d.channel = c.channel;
  d.priority = event->priority;
  d.symbol = event->symbol;
  d.occurred_at = event->occurred_at;
  d.expires_at = event->expires_at;
  d.expires_at_ms = event->expires_at_ms;
  d.recipient = Recipient{c.name, c.address, c.locale, {}, {}};
  d.data = event->data;
  return d;
}

void RenderTemplate(benchmark::State& state, const Case& c) {
  const Delivery d = delivery(c);
  const auto vars = template_vars(d);
  const RenderRequest request{c.template_name, c.locale, c.channel, vars, false};
  if (auto check = templates().render(request, config().sms, config().defaults.locale); !check)
    return state.SkipWithError(check.error().message.c_str());
  for (auto _ : state) {
    auto rendered = templates().render(request, config().sms, config().defaults.locale);
    benchmark::DoNotOptimize(rendered);
  }
  state.SetItemsProcessed(state.iterations());
}

void RenderDelivery(benchmark::State& state, const Case& c) {
  const Delivery d = delivery(c);
  const DeliveryRenderer renderer(config(), templates());
  if (auto check = renderer.render(d); !check) return state.SkipWithError(check.error().message.c_str());
  for (auto _ : state) {
    auto message = renderer.render(d);
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations());
}

std::string keep_as_is(const std::string& s) { return s; }

// Baseline: kainjow alone on the same text and data.
void KainjowRender(benchmark::State& state, const Case& c) {
  using kainjow::mustache::mustache;
  const Delivery d = delivery(c);
  const auto data = to_mustache_data(template_vars(d));
  const std::string file = std::string(c.template_name) + (c.channel == Channel::sms ? ".sms" : ".email") + ".mustache";
  const std::string text = template_file_text(c.locale, file);
  std::vector<std::unique_ptr<mustache>> parts;  // SMS: the text; e-mail: subject, text, HTML
  if (c.channel == Channel::sms) {
    parts.push_back(std::make_unique<mustache>(text));
    parts.back()->set_custom_escape(keep_as_is);
  } else {
    auto email = split_email_template(text, file);
    if (!email) return state.SkipWithError(email.error().to_string().c_str());
    for (const auto* part : {&email->subject, &email->text, &email->html}) {
      parts.push_back(std::make_unique<mustache>(part->text));
      if (part != &email->html) parts.back()->set_custom_escape(keep_as_is);
    }
  }
  for (auto _ : state) {
    for (auto& part : parts) {
      auto out = part->render(data);
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// The delivery record on its way through Kafka: serialize() in fanout (one
// per delivery planned), parse_delivery() in dispatch (one per delivery
// read); baseline: boost::json::parse of the same record alone.
void SerializeDelivery(benchmark::State& state, const Case& c) {
  const Delivery d = delivery(c);
  for (auto _ : state) {
    auto record = serialize(d);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}

void ParseDelivery(benchmark::State& state, const Case& c) {
  const std::string record = serialize(delivery(c));
  state.SetLabel(std::to_string(record.size()) + " bytes");
  for (auto _ : state) {
    auto d = parse_delivery(record);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}

void JsonParseDelivery(benchmark::State& state, const Case& c) {
  const std::string record = serialize(delivery(c));
  for (auto _ : state) {
    auto v = boost::json::parse(record);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(SerializeDelivery, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(SerializeDelivery, email_en_ipo_subscription, email_en);
BENCHMARK_CAPTURE(ParseDelivery, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(ParseDelivery, email_en_ipo_subscription, email_en);
BENCHMARK_CAPTURE(JsonParseDelivery, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(JsonParseDelivery, email_en_ipo_subscription, email_en);
BENCHMARK_CAPTURE(RenderTemplate, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(RenderTemplate, email_en_ipo_subscription, email_en);
BENCHMARK_CAPTURE(RenderDelivery, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(RenderDelivery, email_en_ipo_subscription, email_en);
BENCHMARK_CAPTURE(KainjowRender, sms_zh_risk_alert, sms_zh);
BENCHMARK_CAPTURE(KainjowRender, email_en_ipo_subscription, email_en);

}  // namespace
}  // namespace sunbeam::bench
