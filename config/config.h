// Typed configuration of a sunbeam engine (SPEC §4), built and validated once
// from `sunbeam.yaml` by `load_config`. Every option, its default and its
// meaning are documented in docs/configuration.md; keep the two in step.
//
// Paths in the file are relative to the directory of the config file and are
// stored here already resolved (absolute or relative to the working directory).
// A `Config` is immutable after loading and safe to share between threads.
#pragma once

#include "config/problem.h"
#include "config/units.h"
#include "config/vocabulary.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sunbeam {

struct KafkaConfig {
  // "embedded" runs librdkafka's in-process mock cluster; otherwise a
  // comma-separated bootstrap list, e.g. "127.0.0.1:9092".
  std::string brokers = "embedded";
  std::string topic_prefix = "sunbeam.";
  int partitions = 6;             // for topics sunbeam creates
  int replication_factor = 1;     // idem
  // Stable name of this engine instance: the fanout role's transactional.id
  // is derived from it, so a restarted instance fences its previous self.
  std::string instance_id = "sunbeam-1";
  // Extra librdkafka properties applied to every client (e.g. security.protocol).
  std::map<std::string, std::string> client_overrides;

  bool embedded() const { return brokers == "embedded"; }
};

// One event type (SPEC §4 event_types.<name>).
struct EventTypeConfig {
  std::string name;
  AudienceKind audience = AudienceKind::all;
  // Channels per tier; a tier absent from the map is not entitled to the type.
  std::map<std::string, std::vector<Channel>> channels;
  Priority priority = Priority::normal;
  bool digest = false;          // hold for the pre-market digest
  bool symbol_required = false; // events of this type must carry `symbol`
  bool marketing = false;       // gets the SMS opt-out suffix (stock picks)
  // Base name of the templates: templates/<locale>/<template>.<channel>.mustache.
  std::string template_name;
  int line = 0;                 // where it was defined, for later messages
};

struct RetryPolicy {
  int max_attempts = 5;
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::minutes(5);
  Duration max_age = std::chrono::hours(1);
};

// One connector (SPEC §4 connectors[], SPEC §6). Kind-specific settings the
// generic fields do not cover (the outbox `dir`, a gateway's `body` shape,
// `username`, ...) are kept in `options`, `${ENV}` references unexpanded:
// a connector expands them when it is built, so secrets never sit in a Config.
// The connector's circuit breaker: `failures` consecutive connector-level
// failures open it for `cool_down`, then one probe decides.
struct BreakerConfig {
  int failures = 10;
  Duration cool_down = std::chrono::seconds(30);
};

struct ConnectorConfig {
  std::string name;
  std::string kind;            // sms_http | kannel | smtp | outbox
  std::string endpoint;        // URL; for outbox, the directory
  std::map<std::string, std::string> options;
  Rate rate;                   // sends per second; unlimited when not set
  int burst = 1;
  int concurrency = 4;
  Duration timeout = std::chrono::seconds(10);
  RetryPolicy retry;
  BreakerConfig breaker;
  // What one SMS part costs at this gateway (any currency unit), recorded on
  // `status` with the parts; 0 when not configured.
  double cost_per_part = 0;
  int line = 0;
};

struct Route {
  std::string connector;
  std::optional<std::string> fallback;
};

// Daily local-time window in minutes after midnight; may wrap midnight
// (21:30-08:00 is start=1290, end=480).
struct QuietHours {
  int start_minute = 0;
  int end_minute = 0;
  bool operator==(const QuietHours&) const = default;
};

struct Defaults {
  std::string locale = "zh-CN";
  std::string timezone = "Asia/Shanghai";
  std::optional<QuietHours> quiet_hours;
};

enum class SignaturePosition : std::uint8_t { prefix, suffix };

struct SmsConfig {
  std::string signature;          // e.g. 【某某证券】, counted in the parts
  SignaturePosition signature_position = SignaturePosition::prefix;
  std::string opt_out_suffix;     // appended to marketing types
  int max_parts = 5;              // a longer text uses the short variant or fails
};

struct ScheduleConfig {
  std::string digest_time = "08:45";      // local time in `timezone`
  std::string timezone = "Asia/Shanghai";
  std::filesystem::path calendar;          // trading days, one YYYY-MM-DD a line
  std::string cutoff = "09:25";           // after this, an unsent digest expires
};

enum class ApiRole : std::uint8_t { publisher, operator_, viewer };

struct ApiToken {
  std::string name;
  std::string sha256_hex;  // SHA-256 of the bearer token, lowercase hex
  ApiRole role = ApiRole::viewer;
};

struct ApiConfig {
  std::string listen = "127.0.0.1:8080";  // host:port
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  // Events handed to Kafka and not yet acknowledged: past this, ingest is
  // behind and POST /v1/events answers 429 with Retry-After.
  int max_pending_events = 10000;
  std::vector<ApiToken> tokens;
};

// Where the subscriber directory is read from at start-up (SPEC §3).
struct DirectoryConfig {
  std::filesystem::path subscribers;
  std::filesystem::path holdings;   // empty: none
  std::filesystem::path watchlist;  // empty: none
};

// What dispatch does when it is behind (SPEC §4 `dispatch`).
enum class BackpressurePolicy : std::uint8_t {
  // Stop reading a tier's deliveries from Kafka once `max_pending` of them are
  // read and unfinished; Kafka holds the rest (nothing is dropped), and the
  // tiers above keep flowing.
  pause,
};

struct DispatchConfig {
  BackpressurePolicy backpressure = BackpressurePolicy::pause;
  int max_pending = 10000;  // per tier
  // On SIGTERM: how long sends already handed to a connector may take to
  // answer before the process exits anyway (their deliveries are then read
  // again from Kafka at the next start: sent at most once more, never lost).
  Duration drain_timeout = std::chrono::seconds(30);
  // Group commit of dispatch's store (sent ledger, caps, deferrals, receipts):
  // writes join one transaction, committed after `ledger_batch` writes or
  // `ledger_interval`, and always before an offset commit. A SIGKILL loses the
  // open transaction, so it may send again up to ledger_batch - 1 sends besides
  // those in flight; 1 commits every write (the narrowest window, the slowest).
  int ledger_batch = 512;
  Duration ledger_interval = std::chrono::milliseconds(20);
  // How long the ledger keeps an event's sends after its last one: as long as
  // a delivery of it can be read again (uncommitted offsets, a suspended
  // connector holding them), come back from the deferrals, or be produced
  // again by a replay or a digest run (at the next start). At least a day.
  Duration ledger_retention = std::chrono::hours(24 * 7);
  // How long a sent SMS's receipt is waited for: the receipt book keeps what
  // matches it (the delivery's record, its gateway id) this long, then forgets
  // it in whole days (UTC), and a later receipt is logged and ignored. It
  // should cover the gateways' validity period. At least a day.
  Duration receipt_retention = std::chrono::hours(24 * 7);
};

// Personal data (SPEC §7): phone numbers and e-mail addresses are masked in
// logs and in the status records' free text unless this is switched off.
struct PrivacyConfig {
  bool mask_personal_data = true;
};

enum class LogFormat : std::uint8_t { text, json };

struct LoggingConfig {
  LogFormat format = LogFormat::text;  // json: one JSON object per line
};

struct Config {
  std::filesystem::path source;     // the file this was loaded from
  KafkaConfig kafka;
  std::vector<std::string> tiers;   // highest priority first
  std::vector<EventTypeConfig> event_types;
  std::filesystem::path templates;  // directory holding <locale>/<type>.<channel>.mustache
  std::vector<ConnectorConfig> connectors;
  std::map<Channel, Route> routing;
  Defaults defaults;
  std::map<Channel, int> caps;      // per subscriber per local day; absent: no cap
  SmsConfig sms;
  ScheduleConfig schedule;
  ApiConfig api;
  DispatchConfig dispatch;
  PrivacyConfig privacy;
  LoggingConfig logging;
  std::filesystem::path storage = "var/sunbeam";
  DirectoryConfig directory;

  // Look-ups; nullptr / nullopt when absent.
  const EventTypeConfig* event_type(std::string_view name) const;
  const ConnectorConfig* connector(std::string_view name) const;
  std::optional<std::size_t> tier_index(std::string_view tier) const;  // 0 = highest
};

// Parses and validates `file`. Either a Config and no problems, or every
// problem found (not just the first), each with file and line.
struct ConfigLoad {
  std::optional<Config> config;
  std::vector<Problem> problems;
};
ConfigLoad load_config(const std::filesystem::path& file);

// "21:30-08:00" -> QuietHours; nullopt when malformed. Shared with the CSV loader.
std::optional<QuietHours> parse_quiet_hours(std::string_view text);

}  // namespace sunbeam
