#include "engine/runtime/engine.h"

#include "connectors/registry.h"
#include "engine/api/api_routes.h"
#include "engine/control/control_reader.h"
#include "engine/digest/digest_role.h"
#include "engine/directory/directory.h"
#include "engine/dispatch/dispatch_role.h"
#include "engine/fanout/fanout_role.h"
#include "engine/ingest/ingest.h"
#include "engine/kafka/admin.h"
#include "engine/kafka/embedded_cluster.h"
#include "engine/kafka/producer.h"
#include "engine/kafka/topics.h"
#include "engine/metrics/registry.h"
#include "engine/net/http_server.h"
#include "engine/replay/replay_service.h"
#include "engine/status/status_view.h"
#include "templates/template_set.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sunbeam {

// Everything the engine owns, declared in start order (destroyed in reverse).
struct Engine::Parts {
  const Config& config;
  RoleSet roles;
  SystemClock system_clock;
  metrics::Registry metrics;  // GET /metrics: every role here adds its series
  const Clock* clock = nullptr;
  std::unique_ptr<kafka::EmbeddedCluster> embedded;
  kafka::ClientSettings settings;
  kafka::Topics topics;
  std::optional<Directory> directory;
  std::shared_ptr<const TemplateSet> templates;
  std::optional<Connectors> connectors;
  std::unique_ptr<StatusView> status;
  std::unique_ptr<kafka::Producer> ingest_producer;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<ReplayService> replays;
  std::unique_ptr<FanoutRole> fanout;
  std::unique_ptr<DispatchRole> dispatch;
  std::unique_ptr<DigestRole> digest;
  std::unique_ptr<ControlReader> control;  // operators' orders, for every role here
  OrdersInForce orders;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<ApiRoutes> routes;
  // /readyz asks Kafka through this (every few seconds, off the HTTP thread).
  std::atomic<bool> kafka_reachable{true};
  std::mutex probe_mutex;
  std::condition_variable probe_wake;
  std::thread kafka_probe;
  std::uint16_t http_port = 0;
  bool stopped = false;

  explicit Parts(const Config& c) : config(c) {}
  ~Parts() { stop_probe(); }  // also when start() fails half-way
  void stop_probe() {
    {
      std::lock_guard lock(probe_mutex);
      stopped = true;
    }
    probe_wake.notify_all();
    if (kafka_probe.joinable()) kafka_probe.join();
  }
};

namespace {

// The embedded cluster lives and dies with the process, so the local state
// kept beside a Kafka (dispatch's ledger and deferrals, the status index's
// offsets, the digest's items) describes one that is gone: start afresh.
void forget_local_state(const Config& config) {
  std::error_code ec;
  const std::string prefix = config.kafka.instance_id + "-";
  for (const auto& entry : std::filesystem::directory_iterator(config.storage, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.find(".sqlite") != std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
      spdlog::debug("embedded kafka: removed {} (state of an earlier embedded cluster)", entry.path().string());
    }
  }
}

Result<void> prepare_kafka(Engine::Parts& p) {
  p.topics = kafka::Topics::from(p.config);
  p.settings.overrides = p.config.kafka.client_overrides;
  if (p.config.kafka.embedded()) {
    forget_local_state(p.config);
    auto cluster = kafka::EmbeddedCluster::start();
    if (!cluster) return cluster.error();
    p.embedded = std::move(*cluster);
    p.settings.bootstrap = p.embedded->bootstrap();
    for (const auto& t : p.topics.all())
      if (auto r = p.embedded->create_topic(t, p.config.kafka.partitions); !r) return r.error();
    spdlog::info("kafka: embedded mock cluster at {}", p.settings.bootstrap);
    return {};
  }
  p.settings.bootstrap = p.config.kafka.brokers;
  p.settings.static_membership = true;  // a restart takes its partitions back at once (kafka/consumer.h)
  std::vector<kafka::TopicSpec> specs;
  for (const auto& t : p.topics.all())
    specs.push_back({t, p.config.kafka.partitions, p.config.kafka.replication_factor, {}});
  // The last order per target is all that matters (a resume replaces its suspend).
  for (auto& spec : specs)
    if (spec.name == p.topics.control) spec.configs.emplace_back("cleanup.policy", "compact");
  if (auto r = kafka::ensure_topics(p.settings, specs); !r) return r.error();
  spdlog::info("kafka: {} ({} topics ready, prefix {})", p.settings.bootstrap, specs.size(), p.config.kafka.topic_prefix);
  return {};
}

Result<void> prepare_directory(Engine::Parts& p) {
  auto load = load_directory(p.config.directory, p.config);
  for (const auto& problem : load.problems) spdlog::warn("directory: {} (row skipped)", problem.to_string());
  p.directory.emplace(std::move(load.directory));
  spdlog::info("directory: {} subscribers, {} holdings, {} watchlist entries", p.directory->size(),
               p.directory->holdings_count(), p.directory->watchlist_count());
  return {};
}

Result<void> prepare_delivery(Engine::Parts& p) {
  auto load = TemplateSet::load(p.config.templates, p.config);
  if (!load.problems.empty()) {
    std::string all;
    for (const auto& problem : load.problems) all += "\n  " + problem.to_string();
    return make_error("templates", "the templates have problems (run `sunbeam check`):" + all);
  }
  p.templates = std::move(load.set);
  return {};
}

// Dispatch sends through the connectors; the API parses their gateways' receipts.
Result<void> prepare_connectors(Engine::Parts& p) {
  auto connectors = Connectors::build(p.config, ConnectorRegistry::with_builtin_kinds(), *p.clock);
  if (!connectors) return connectors.error();
  p.connectors.emplace(std::move(*connectors));
  return {};
}

// What the status index knows, at each scrape: deliveries by latest state,
// tier, channel and connector (all instances' work), and the digest runs.
void add_status_metrics(metrics::Registry& registry, const StatusView& status) {
  registry.add_collector([&status](metrics::MetricsWriter& w) {
    auto& deliveries = w.gauge("sunbeam_deliveries", "Deliveries by latest recorded state.",
                               {"state", "tier", "channel", "connector"});
    for (const auto& c : status.delivery_counts())
      deliveries.add({std::string(to_string(c.state)), c.tier, c.channel, c.connector}, double(c.count));
    auto& runs = w.counter("sunbeam_digest_runs_total", "Pre-market digest runs recorded, by trigger and state.",
                           {"trigger", "state"});
    std::map<std::pair<std::string, std::string>, double> by_kind;
    for (const auto& r : status.digest_runs(100000)) by_kind[{r.trigger, r.state}] += 1;
    for (const auto& [kind, n] : by_kind) runs.add({kind.first, kind.second}, n);
  });
}

// Consumer lag per group and topic, for the roles this process runs.
void add_lag_metrics(Engine::Parts& p) {
  p.metrics.add_collector([&p](metrics::MetricsWriter& w) {
    auto& lag = w.gauge("sunbeam_consumer_lag", "Records in Kafka not yet read by this process's consumer group.",
                        {"group", "topic"});
    auto add = [&](const std::string& group, const std::vector<kafka::PartitionLag>& partitions) {
      std::map<std::string, double> by_topic;
      for (const auto& part : partitions) by_topic[part.topic] += double(part.lag);
      for (const auto& [topic, n] : by_topic) lag.add({group, topic}, n);
    };
    if (p.fanout) add(p.config.kafka.topic_prefix + "fanout", p.fanout->consumer_lag());
    if (p.dispatch) add(p.config.kafka.topic_prefix + "dispatch", p.dispatch->consumer_lag());
  });
}

// Readiness says whether Kafka answers now, not only at start: a metadata
// request through ingest's producer every 5 s on a thread of its own.
void start_kafka_probe(Engine::Parts& p) {
  p.kafka_probe = std::thread([&p] {
    std::unique_lock lock(p.probe_mutex);
    while (!p.stopped) {
      lock.unlock();
      auto r = kafka::ping(p.ingest_producer->handle(), std::chrono::seconds(2));
      if (!r && p.kafka_reachable) spdlog::warn("kafka: {}; /readyz answers 503 until it does", r.error().message);
      if (r && !p.kafka_reachable) spdlog::info("kafka: answering again");
      p.kafka_reachable = bool(r);
      lock.lock();
      p.probe_wake.wait_for(lock, std::chrono::seconds(5), [&p] { return p.stopped; });
    }
  });
}

Result<void> start_http(Engine::Parts& p, const EngineOptions& options) {
  HttpServerOptions http;
  http.listen = options.listen.value_or(p.config.api.listen);
  http.max_body_bytes = p.config.api.max_body_bytes;
  p.http = std::make_unique<HttpServer>(http);
  ApiContext ctx;
  ctx.config = &p.config;
  ctx.roles = p.roles;
  ctx.ingest = p.ingest.get();
  ctx.status = p.status.get();
  ctx.replays = p.replays.get();
  ctx.producer = p.ingest_producer.get();
  ctx.topics = &p.topics;
  ctx.connectors = p.connectors ? &*p.connectors : nullptr;
  ctx.dispatch = p.dispatch.get();
  ctx.orders = &p.orders;
  ctx.metrics = &p.metrics;
  ctx.not_ready = [&p]() -> std::optional<std::string> {
    if (!p.kafka_reachable) return "Kafka does not answer (" + p.settings.bootstrap + ")";
    if (p.status && !p.status->caught_up()) return "the status index is catching up with the status topic";
    if ((p.fanout && p.fanout->fenced()) || (p.dispatch && p.dispatch->fenced()) || (p.digest && p.digest->fenced()))
      return "fenced: another process joined this instance's consumer groups (the same kafka.instance_id); "
             "this one reads nothing more";
    return std::nullopt;
  };
  auto routes = ApiRoutes::install(*p.http, std::move(ctx));
  if (!routes) return routes.error();
  p.routes = std::move(*routes);
  auto port = p.http->start();
  if (!port) return port.error();
  p.http_port = *port;
  spdlog::info("api: listening on {} (roles {})", http.listen.substr(0, http.listen.rfind(':')) + ":" +
                                                     std::to_string(*port), p.roles.to_string());
  return {};
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::start(const Config& config, EngineOptions options) {
  auto parts = std::make_unique<Parts>(config);
  Parts& p = *parts;
  p.roles = options.roles;
  p.clock = options.clock ? options.clock : &p.system_clock;

  if (auto r = prepare_kafka(p); !r) return r.error();
  p.control = std::make_unique<ControlReader>(p.settings, p.topics.control, config.kafka.instance_id + "-control");
  p.control->on_order([&p](const ControlRecord& order) { p.orders.apply(order); });
  if (p.roles.fanout)
    if (auto r = prepare_directory(p); !r) return r.error();
  if (p.roles.dispatch || p.roles.digest)
    if (auto r = prepare_delivery(p); !r) return r.error();
  if (p.roles.dispatch || p.roles.api)
    if (auto r = prepare_connectors(p); !r) return r.error();
  if (p.roles.api) {
    p.status = std::make_unique<StatusView>(config, p.settings, p.topics);
    if (auto r = p.status->start(); !r) return r.error();
    add_status_metrics(p.metrics, *p.status);
    p.control->on_order([s = p.status.get()](const ControlRecord& order) {
      if (order.kind == ControlKind::cancel)
        if (auto r = s->mark_cancelled(order.target, order.time_ms); !r) spdlog::error("status: {}", r.error().message);
    });
  }
  if (p.roles.serves_http()) {
    auto producer = kafka::Producer::create(p.settings, config.kafka.instance_id + "-ingest",
                                            kafka::Producer::Mode::idempotent);
    if (!producer) return producer.error();
    p.ingest_producer = std::move(*producer);
    if (auto r = p.ingest_producer->warm_up(p.topics.events, std::chrono::seconds(30)); !r) return r.error();
    p.ingest = std::make_unique<Ingest>(config, *p.ingest_producer, p.topics);
    auto known = p.ingest->rebuild_index(p.settings);
    if (!known) return known.error();
    spdlog::info("ingest: {} event ids already published", *known);
  }
  if (p.status) {
    // Replays produce through ingest's producer (idempotent, acks=all).
    p.replays = std::make_unique<ReplayService>(*p.status, *p.ingest_producer, p.topics, config, *p.clock);
    if (auto r = p.replays->resume(); !r) return r.error();
  }
  if (p.roles.fanout) {
    p.fanout = std::make_unique<FanoutRole>(config, *p.directory, p.settings, p.topics, *p.clock);
    if (auto r = p.fanout->start(); !r) return r.error();
  }
  if (p.roles.dispatch) {
    p.dispatch = std::make_unique<DispatchRole>(config, *p.templates, *p.connectors, p.settings, p.topics, *p.clock);
    p.dispatch->attach_metrics(p.metrics);
    p.control->on_order([d = p.dispatch.get()](const ControlRecord& order) {
      switch (order.kind) {
        case ControlKind::cancel: d->cancel_event(order.target); break;
        case ControlKind::suspend: d->suspend(order.target, true); break;
        case ControlKind::resume: d->suspend(order.target, false); break;
        case ControlKind::digest_now: break;
      }
    });
  }
  if (p.roles.digest) {
    p.digest = std::make_unique<DigestRole>(config, *p.templates, p.settings, p.topics, *p.clock);
    p.control->on_order([d = p.digest.get()](const ControlRecord& order) {
      if (order.kind == ControlKind::cancel) d->cancel_event(order.target);
      if (order.kind == ControlKind::digest_now)
        if (auto r = d->request(order.target); !r) spdlog::error("digest: request for {}: {}", order.target, r.error().message);
    });
  }
  // The orders in force apply before the first delivery is read.
  if (auto r = p.control->start(); !r) return r.error();
  if (auto r = p.control->wait_caught_up(std::chrono::seconds(30)); !r) return r.error();
  if (p.dispatch)
    if (auto r = p.dispatch->start(); !r) return r.error();
  if (p.digest)
    if (auto r = p.digest->start(); !r) return r.error();
  add_lag_metrics(p);
  if (p.ingest_producer) start_kafka_probe(p);
  // Every process serves /healthz, /readyz and /metrics; the API's routes
  // only where their part of the engine runs.
  if (auto r = start_http(p, options); !r) return r.error();
  return std::unique_ptr<Engine>(new Engine(std::move(parts)));
}

Engine::Engine(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Engine::~Engine() { stop(); }

void Engine::stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stop_probe();  // sets `stopped`
  if (p.http) p.http->stop();                   // intake first
  if (p.routes) p.routes->stop();               // answers still waiting
  if (p.fanout) p.fanout->stop();               // aborts an open transaction: redone on restart
  if (p.digest) p.digest->stop();               // a run cut short is finished at the next start
  if (p.dispatch) p.dispatch->stop();           // finishes the batch in hand, commits
  if (p.replays) p.replays->stop();
  if (p.control) p.control->stop();
  if (p.connectors) p.connectors->stop();
  if (p.status) p.status->stop();
  p.ingest.reset();
  p.ingest_producer.reset();                    // flushes what ingest queued
}

Ingest* Engine::ingest() { return parts_->ingest.get(); }
StatusView* Engine::status() { return parts_->status.get(); }
std::uint16_t Engine::http_port() const { return parts_->http_port; }

}  // namespace sunbeam
