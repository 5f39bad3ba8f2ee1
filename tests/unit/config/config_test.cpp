#include "config/config.h"
#include "tests/support/source_dir.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>
#include <fstream>

using namespace sunbeam;
namespace fs = std::filesystem;

namespace {

// A config file in a temp dir, with the files it names, so paths resolve.
struct TempConfig {
  fs::path dir = fs::temp_directory_path() / ("sunbeam-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  static inline int counter = 0;
  explicit TempConfig(const std::string& yaml) {
    fs::create_directories(dir / "templates");
    std::ofstream(dir / "subscribers.csv") << "account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n";
    std::ofstream(dir / "sunbeam.yaml") << yaml;
  }
  ~TempConfig() { fs::remove_all(dir); }
  ConfigLoad load() const { return load_config(dir / "sunbeam.yaml"); }
};

const std::string good = R"(kafka:
  brokers: embedded
tiers: [advisor, research, basic]
event_types:
  notice:
    audience: all
    channels: { advisor: [sms], research: [sms, email], basic: [sms] }
  risk_alert:
    audience: holders
    priority: urgent
    channels: { advisor: [sms, email] }
templates: templates
connectors:
  - name: outbox
    kind: outbox
    dir: out
    rate: 6000/min
    burst: 10
    timeout: 5s
routing:
  sms: { connector: outbox }
  email: outbox
directory:
  subscribers: subscribers.csv
)";

bool mentions(const std::vector<Problem>& problems, int line, const std::string& words) {
  for (const auto& p : problems)
    if (p.line == line && p.what.find(words) != std::string::npos) return true;
  return false;
}

std::string all(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.to_string() + "\n";
  return out;
}

}  // namespace

TEST_CASE("the shipped sample loads without problems") {
  auto load = load_config(test::source_dir() / "config" / "sample" / "sunbeam.yaml");
  INFO(all(load.problems));
  REQUIRE(load.problems.empty());
  const Config& c = *load.config;
  CHECK(c.kafka.embedded());
  CHECK(c.tiers == std::vector<std::string>{"advisor", "research", "basic"});
  CHECK(c.event_types.size() == 10);
  CHECK(c.event_type("risk_alert")->priority == Priority::urgent);
  CHECK(c.event_type("stock_pick_followup")->digest);
  CHECK(c.event_type("stock_pick")->marketing);
  CHECK(c.event_type("allotment_result")->audience == AudienceKind::explicit_accounts);
  CHECK(c.event_type("market_summary")->symbol_required == false);
  CHECK(c.event_type("rating_change")->symbol_required);
  CHECK(c.sms.signature == "【阳光证券】");
  CHECK(c.defaults.quiet_hours == QuietHours{1290, 480});
  CHECK(c.routing.at(Channel::sms).connector == "outbox");
  CHECK(fs::exists(c.directory.subscribers));
  CHECK(c.api.max_body_bytes == 4u << 20);
}

TEST_CASE("typed values, defaults and resolved paths") {
  TempConfig t(good);
  auto load = t.load();
  INFO(all(load.problems));
  REQUIRE(load.config);
  const Config& c = *load.config;
  CHECK(c.connectors.at(0).rate.per_second() == 100);
  CHECK(c.connectors.at(0).timeout == std::chrono::seconds(5));
  CHECK(c.connectors.at(0).options.at("dir") == (t.dir / "out").string());
  CHECK(c.routing.at(Channel::email).connector == "outbox");
  CHECK(c.event_type("notice")->template_name == "notice");
  CHECK(c.event_type("notice")->channels.at("research") == std::vector<Channel>{Channel::sms, Channel::email});
  CHECK(c.tier_index("basic") == 2u);
  CHECK(c.templates == t.dir / "templates");
}

TEST_CASE("every problem is reported, each with its line") {
  TempConfig t(R"(kafka:
  brokers: embedded
  partitons: 3
tiers: [advisor, research, basic]
event_types:
  notice:
    audience: everybody
    channels: { gold: [sms], basic: [pigeon] }
  risk_alert:
    priority: high
    channels: { advisor: [sms] }
templates: templates
connectors:
  - name: gw
    kind: sms_http
    endpoint: http://127.0.0.1:9000/send
    password: hunter2
    rate: fast
    timeout: 30
routing:
  sms: { connector: nosuch }
directory:
  subscribers: subscribers.csv
)");
  auto load = t.load();
  CHECK_FALSE(load.config);
  INFO(all(load.problems));
  CHECK(mentions(load.problems, 3, "partitons"));
  CHECK(mentions(load.problems, 7, "everybody"));
  CHECK(mentions(load.problems, 8, "unknown tier \"gold\""));
  CHECK(mentions(load.problems, 8, "pigeon"));
  CHECK(mentions(load.problems, 10, "normal or urgent"));
  CHECK(mentions(load.problems, 17, "${"));
  CHECK(mentions(load.problems, 18, "not a rate"));
  CHECK(mentions(load.problems, 19, "not a duration"));
  CHECK(mentions(load.problems, 21, "no connector is named \"nosuch\""));
  CHECK(load.problems.size() >= 9);
  for (const auto& p : load.problems) CHECK(p.file == (t.dir / "sunbeam.yaml").string());
}

TEST_CASE("YAML syntax errors carry their line") {
  TempConfig t("tiers: [advisor\nevent_types:\n  notice: {\n");
  auto load = t.load();
  REQUIRE(load.problems.size() == 1);
  CHECK(load.problems[0].what.find("YAML") != std::string::npos);
  CHECK(load.problems[0].line >= 2);
}

TEST_CASE("a tier may not be named urgent: that is the topic of urgent deliveries") {
  TempConfig t(R"(tiers: [advisor, urgent]
event_types:
  notice:
    channels: { advisor: [email] }
)");
  auto load = t.load();
  INFO(all(load.problems));
  CHECK(mentions(load.problems, 1, "deliveries.urgent"));
}

TEST_CASE("missing sections, files and unrouted channels are problems") {
  TempConfig t(R"(tiers: [basic, basic]
event_types:
  notice:
    channels: { basic: [email] }
templates: no-such-dir
directory:
  subscribers: nope.csv
)");
  auto load = t.load();
  INFO(all(load.problems));
  CHECK(mentions(load.problems, 1, "listed twice"));
  CHECK(mentions(load.problems, 5, "no such directory"));
  CHECK(mentions(load.problems, 7, "no such file"));
  CHECK(mentions(load.problems, 3, "routing names no connector for email"));
}

TEST_CASE("an unreadable file is one clear problem") {
  auto load = load_config("/no/such/sunbeam.yaml");
  REQUIRE(load.problems.size() == 1);
  CHECK(load.problems[0].to_string() == "/no/such/sunbeam.yaml: cannot read the configuration file");
}

TEST_CASE("dispatch's store group commit and retention: defaults, set, and bounds") {
  TempConfig defaults(good);
  auto d = defaults.load();
  REQUIRE(d.config);
  CHECK(d.config->dispatch.ledger_batch == 512);
  CHECK(d.config->dispatch.ledger_interval == std::chrono::milliseconds(20));
  CHECK(d.config->dispatch.ledger_retention == std::chrono::hours(24 * 7));
  CHECK(d.config->dispatch.receipt_retention == std::chrono::hours(24 * 7));

  TempConfig set(good + "dispatch: { ledger_batch: 1, ledger_interval: 5ms, ledger_retention: 30d, receipt_retention: 3d }\n");
  auto s = set.load();
  INFO(all(s.problems));
  REQUIRE(s.config);
  CHECK(s.config->dispatch.ledger_batch == 1);
  CHECK(s.config->dispatch.ledger_interval == std::chrono::milliseconds(5));
  CHECK(s.config->dispatch.ledger_retention == std::chrono::hours(24 * 30));
  CHECK(s.config->dispatch.receipt_retention == std::chrono::hours(24 * 3));

  TempConfig bad(good + "dispatch: { ledger_batch: 0, ledger_interval: 1m, ledger_retention: 12h, receipt_retention: 1h }\n");
  auto b = bad.load();
  CHECK_FALSE(b.config);
  CHECK(all(b.problems).find("dispatch.ledger_batch") != std::string::npos);
  CHECK(all(b.problems).find("dispatch.ledger_interval: at most 10s") != std::string::npos);
  CHECK(all(b.problems).find("dispatch.ledger_retention: at least 1d") != std::string::npos);
  CHECK(all(b.problems).find("dispatch.receipt_retention: at least 1d") != std::string::npos);
}

TEST_CASE("operations settings: tokens, drain, privacy, logging; `digest` is not a name for an event type") {
  TempConfig ok(good + R"(api:
  listen: "127.0.0.1:8080"
  max_pending_events: 500
  tokens:
    - { name: desk, role: publisher, sha256: 8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92 }
dispatch: { drain_timeout: 45s }
privacy: { mask_personal_data: false }
logging: { format: json }
)");
  auto load = ok.load();
  INFO(all(load.problems));
  REQUIRE(load.config);
  CHECK(load.config->api.max_pending_events == 500);
  CHECK(load.config->api.tokens.size() == 1);
  CHECK(load.config->dispatch.drain_timeout == std::chrono::seconds(45));
  CHECK_FALSE(load.config->privacy.mask_personal_data);
  CHECK(load.config->logging.format == LogFormat::json);

  TempConfig bad(R"(kafka:
  brokers: embedded
tiers: [basic]
event_types:
  digest:
    audience: all
    channels: { basic: [sms] }
templates: templates
connectors:
  - { name: outbox, kind: outbox, dir: out }
routing:
  sms: outbox
privacy: { mask_personal_data: maybe }
logging: { format: xml }
directory:
  subscribers: subscribers.csv
)");
  auto refused = bad.load();
  INFO(all(refused.problems));
  CHECK_FALSE(refused.config);
  CHECK(mentions(refused.problems, 5, "pre-market digest"));
  CHECK(mentions(refused.problems, 13, "true or false"));
  CHECK(mentions(refused.problems, 14, "not a format"));
}
