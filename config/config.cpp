// Loading and validating sunbeam.yaml. One pass builds the typed Config and
// collects every problem with its line, so `sunbeam check` can list them all.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <charconv>
#include <set>

namespace sunbeam {

const EventTypeConfig* Config::event_type(std::string_view name) const {
  for (const auto& t : event_types)
    if (t.name == name) return &t;
  return nullptr;
}

const ConnectorConfig* Config::connector(std::string_view name) const {
  for (const auto& c : connectors)
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<std::size_t> Config::tier_index(std::string_view tier) const {
  for (std::size_t i = 0; i < tiers.size(); ++i)
    if (tiers[i] == tier) return i;
  return std::nullopt;
}

namespace {

// "HH:MM" -> minutes after midnight.
std::optional<int> parse_clock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2) return std::nullopt;
  if (std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5) return std::nullopt;
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

}  // namespace

std::optional<QuietHours> parse_quiet_hours(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = parse_clock(text.substr(0, dash));
  const auto end = parse_clock(text.substr(dash + 1));
  if (!start || !end || *start == *end) return std::nullopt;
  return QuietHours{*start, *end};
}

namespace {

namespace fs = std::filesystem;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// "4MiB", "64KiB", "1000" -> bytes.
std::optional<std::size_t> parse_size(std::string_view s) {
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  const std::string_view unit(ptr, s.data() + s.size() - ptr);
  if (unit.empty() || unit == "B") return n;
  if (unit == "KiB") return n * 1024;
  if (unit == "MiB") return n * 1024 * 1024;
  return std::nullopt;
}

// A secret must come from the environment: `${NAME}`, possibly inside a
// longer value such as `Bearer ${SMS_TOKEN}`.
bool is_env_reference(std::string_view s) {
  const auto open = s.find("${");
  if (open == std::string_view::npos) return false;
  const auto close = s.find('}', open + 2);
  return close != std::string_view::npos && close > open + 2;
}

bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Walks the YAML tree, building typed values and recording problems with
// their lines. Every accessor reports a problem and returns nullopt rather
// than throwing, so one mistake never hides the next.
class Reader {
 public:
  Reader(std::string file, fs::path base, std::vector<Problem>& problems)
      : file_(std::move(file)), base_(std::move(base)), problems_(problems) {}

  void problem(const YAML::Node& at, const std::string& what) {
    const int line = at.IsDefined() && at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
    problems_.push_back({file_, line, what});
  }
  void problem_at_line(int line, const std::string& what) { problems_.push_back({file_, line, what}); }

  // Rejects keys outside `allowed` (typos would otherwise be silently ignored).
  void only_keys(const YAML::Node& map, std::string_view section, std::initializer_list<std::string_view> allowed) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string known;
      for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      problem(kv.first, std::string(section) + (section.empty() ? "" : ".") + key + ": unknown key (known: " + known + ")");
    }
  }

  bool is_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    problem(n, path + ": must be a mapping of keys to values");
    return false;
  }

  std::optional<std::string> string(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      problem(n, path + ": must be a single value");
      return std::nullopt;
    }
    return n.as<std::string>();
  }

  std::optional<long long> integer(const YAML::Node& n, const std::string& path, long long min, long long max) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || ptr != s->data() + s->size() || v < min || v > max) {
      problem(n, path + ": \"" + *s + "\" must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes" || *s == "on") return true;
    if (*s == "false" || *s == "no" || *s == "off") return false;
    problem(n, path + ": \"" + *s + "\" must be true or false");
    return std::nullopt;
  }

  std::optional<Duration> duration(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) problem(n, path + ": \"" + *s + "\" is not a duration (write e.g. 250ms, 30s, 5m, 1h, 2d)");
    return d;
  }

  std::optional<int> clock_time(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    auto m = parse_clock(*s);
    if (!m) problem(n, path + ": \"" + *s + "\" is not a time of day (write HH:MM, e.g. 08:45)");
    return m;
  }

  std::optional<std::string> timezone(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    // The system's tz database (Debian's tzdata) names the valid zones.
    std::error_code ec;
    if (s->empty() || s->find("..") != std::string::npos || !fs::is_regular_file(fs::path("/usr/share/zoneinfo") / *s, ec)) {
      problem(n, path + ": \"" + *s + "\" is not a known time zone (write an IANA name such as Asia/Shanghai)");
      return std::nullopt;
    }
    return s;
  }

  // A path relative to the config file's directory. `must_exist`: "file", "dir" or "".
  std::optional<fs::path> path(const YAML::Node& n, const std::string& where, std::string_view must_exist) {
    auto s = string(n, where);
    if (!s) return std::nullopt;
    fs::path p = *s;
    if (p.is_relative()) p = (base_ / p).lexically_normal();
    std::error_code ec;
    if (must_exist == "file" && !fs::is_regular_file(p, ec)) {
      problem(n, where + ": no such file " + p.string());
      return std::nullopt;
    }
    if (must_exist == "dir" && !fs::is_directory(p, ec)) {
      problem(n, where + ": no such directory " + p.string());
      return std::nullopt;
    }
    return p;
  }

  fs::path resolve(const std::string& s) const {
    fs::path p = s;
    return p.is_relative() ? (base_ / p).lexically_normal() : p;
  }

 private:
  std::string file_;
  fs::path base_;
  std::vector<Problem>& problems_;
};

// Types whose events concern one security unless configured otherwise.
constexpr std::array symbol_scoped_types{"ipo_subscription", "allotment_result", "listing_reminder",
                                         "rating_change",    "holding_announcement", "stock_pick",
                                         "stock_pick_followup", "risk_alert"};

void read_kafka(Reader& r, const YAML::Node& n, KafkaConfig& k) {
  if (!r.is_map(n, "kafka")) return;
  r.only_keys(n, "kafka", {"brokers", "topic_prefix", "partitions", "replication_factor", "instance_id", "client"});
  if (n["brokers"]) {
    if (auto s = r.string(n["brokers"], "kafka.brokers")) {
      if (s->empty()) r.problem(n["brokers"], "kafka.brokers: write `embedded` or a bootstrap list like 127.0.0.1:9092");
      else k.brokers = *s;
    }
  }
  if (n["topic_prefix"])
    if (auto s = r.string(n["topic_prefix"], "kafka.topic_prefix")) k.topic_prefix = *s;
  if (n["partitions"])
    if (auto v = r.integer(n["partitions"], "kafka.partitions", 1, 1000)) k.partitions = int(*v);
  if (n["replication_factor"])
    if (auto v = r.integer(n["replication_factor"], "kafka.replication_factor", 1, 10)) k.replication_factor = int(*v);
  if (n["instance_id"]) {
    if (auto s = r.string(n["instance_id"], "kafka.instance_id")) {
      if (!valid_name(*s)) r.problem(n["instance_id"], "kafka.instance_id: use letters, digits, - and _");
      else k.instance_id = *s;
    }
  }
  if (const auto client = n["client"]) {
    if (r.is_map(client, "kafka.client"))
      for (const auto& kv : client)
        if (auto v = r.string(kv.second, "kafka.client." + kv.first.as<std::string>()))
          k.client_overrides[kv.first.as<std::string>()] = *v;
  }
}

void read_tiers(Reader& r, const YAML::Node& n, std::vector<std::string>& tiers) {
  if (!n.IsSequence() || n.size() == 0) {
    r.problem(n, "tiers: list the service tiers, highest priority first, e.g. [advisor, research, basic]");
    return;
  }
  for (const auto& t : n) {
    auto name = r.string(t, "tiers");
    if (!name) continue;
    if (!valid_name(*name)) r.problem(t, "tiers: \"" + *name + "\" is not a valid tier name (letters, digits, - and _)");
    else if (std::find(tiers.begin(), tiers.end(), *name) != tiers.end()) r.problem(t, "tiers: \"" + *name + "\" is listed twice");
    else if (*name == "urgent") r.problem(t, "tiers: \"urgent\" names the topic of urgent deliveries (deliveries.urgent); name this tier otherwise");
    else tiers.push_back(*name);
  }
}

void read_event_type(Reader& r, const std::string& name, const YAML::Node& key, const YAML::Node& n,
                     const std::vector<std::string>& tiers, EventTypeConfig& t) {
  const std::string at = "event_types." + name;
  t.name = name;
  t.template_name = name;
  t.line = key.Mark().line + 1;
  if (!valid_name(name)) r.problem(key, at + ": an event type name uses letters, digits, - and _");
  if (name == "digest") r.problem(key, at + ": `digest` is the pre-market digest's own type (its template is digest.<channel>); name this type otherwise");
  if (n.IsNull()) return;
  if (!r.is_map(n, at)) return;
  r.only_keys(n, at, {"audience", "channels", "priority", "digest", "symbol_required", "marketing", "template"});
  if (n["audience"]) {
    if (auto s = r.string(n["audience"], at + ".audience")) {
      if (auto a = parse_audience_kind(*s)) t.audience = *a;
      else r.problem(n["audience"], at + ".audience: \"" + *s + "\" is not one of all, tiers, holders, watchers, explicit");
    }
  }
  if (n["priority"]) {
    if (auto s = r.string(n["priority"], at + ".priority")) {
      if (auto p = parse_priority(*s)) t.priority = *p;
      else r.problem(n["priority"], at + ".priority: \"" + *s + "\" must be normal or urgent");
    }
  }
  if (n["digest"])
    if (auto b = r.boolean(n["digest"], at + ".digest")) t.digest = *b;
  if (n["marketing"])
    if (auto b = r.boolean(n["marketing"], at + ".marketing")) t.marketing = *b;
  t.symbol_required = t.audience == AudienceKind::holders || t.audience == AudienceKind::watchers ||
                      std::find(symbol_scoped_types.begin(), symbol_scoped_types.end(), name) != symbol_scoped_types.end();
  if (n["symbol_required"])
    if (auto b = r.boolean(n["symbol_required"], at + ".symbol_required")) t.symbol_required = *b;
  if (n["template"]) {
    if (auto s = r.string(n["template"], at + ".template")) {
      if (!valid_name(*s)) r.problem(n["template"], at + ".template: a template base name uses letters, digits, - and _");
      else t.template_name = *s;
    }
  }
  const auto channels = n["channels"];
  if (!channels) {
    r.problem(n, at + ".channels: say which tiers receive it on which channels, e.g. { advisor: [sms, email] }");
    return;
  }
  if (!r.is_map(channels, at + ".channels")) return;
  for (const auto& kv : channels) {
    const auto tier = kv.first.as<std::string>();
    if (std::find(tiers.begin(), tiers.end(), tier) == tiers.end()) {
      r.problem(kv.first, at + ".channels: unknown tier \"" + tier + "\" (tiers are " + join(tiers) + ")");
      continue;
    }
    std::vector<Channel> list;
    const auto& seq = kv.second;
    if (!seq.IsSequence()) {
      r.problem(seq, at + ".channels." + tier + ": must be a list such as [sms, email] (or [] for none)");
      continue;
    }
    for (const auto& c : seq) {
      auto s = r.string(c, at + ".channels." + tier);
      if (!s) continue;
      auto ch = parse_channel(*s);
      if (!ch) r.problem(c, at + ".channels." + tier + ": unknown channel \"" + *s + "\" (channels are sms, email)");
      else if (std::find(list.begin(), list.end(), *ch) == list.end()) list.push_back(*ch);
    }
    t.channels[tier] = std::move(list);
  }
}

void read_retry(Reader& r, const YAML::Node& n, const std::string& at, RetryPolicy& p) {
  if (!r.is_map(n, at)) return;
  r.only_keys(n, at, {"max_attempts", "initial_backoff", "max_backoff", "max_age"});
  if (n["max_attempts"])
    if (auto v = r.integer(n["max_attempts"], at + ".max_attempts", 1, 100)) p.max_attempts = int(*v);
  if (n["initial_backoff"])
    if (auto d = r.duration(n["initial_backoff"], at + ".initial_backoff")) p.initial_backoff = *d;
  if (n["max_backoff"])
    if (auto d = r.duration(n["max_backoff"], at + ".max_backoff")) p.max_backoff = *d;
  if (n["max_age"])
    if (auto d = r.duration(n["max_age"], at + ".max_age")) p.max_age = *d;
  if (p.max_backoff < p.initial_backoff) r.problem(n, at + ": max_backoff is shorter than initial_backoff");
}

constexpr std::array connector_kinds{"sms_http", "kannel", "smtp", "outbox", "discard"};
constexpr std::array secret_keys{"password", "secret", "token", "api_key", "receipt_secret", "auth_header"};

void read_connector(Reader& r, const YAML::Node& n, std::size_t index, ConnectorConfig& c) {
  std::string at = "connectors[" + std::to_string(index) + "]";
  c.line = n.Mark().line + 1;
  if (!r.is_map(n, at)) return;
  if (auto name = n["name"] ? r.string(n["name"], at + ".name") : std::nullopt) {
    if (!valid_name(*name)) r.problem(n["name"], at + ".name: use letters, digits, - and _");
    c.name = *name;
    at = "connectors." + c.name;
  } else {
    r.problem(n, at + ": every connector needs a name");
  }
  if (auto kind = n["kind"] ? r.string(n["kind"], at + ".kind") : std::nullopt) {
    if (std::find(connector_kinds.begin(), connector_kinds.end(), *kind) == connector_kinds.end())
      r.problem(n["kind"], at + ".kind: \"" + *kind + "\" is not one of sms_http, kannel, smtp, outbox, discard");
    c.kind = *kind;
  } else {
    r.problem(n, at + ": say which kind of connector it is (kind: sms_http, kannel, smtp, outbox or discard)");
  }
  for (const auto& kv : n) {
    const auto key = kv.first.as<std::string>();
    const auto& v = kv.second;
    const std::string where = at + "." + key;
    if (key == "name" || key == "kind") continue;
    if (key == "endpoint") {
      if (auto s = r.string(v, where)) c.endpoint = *s;
    } else if (key == "rate") {
      if (auto s = r.string(v, where)) {
        if (auto rate = parse_rate(*s)) c.rate = *rate;
        else r.problem(v, where + ": \"" + *s + "\" is not a rate (write e.g. 100/s or 6000/min)");
      }
    } else if (key == "burst") {
      if (auto b = r.integer(v, where, 1, 1'000'000)) c.burst = int(*b);
    } else if (key == "concurrency") {
      if (auto b = r.integer(v, where, 1, 1024)) c.concurrency = int(*b);
    } else if (key == "timeout") {
      if (auto d = r.duration(v, where)) c.timeout = *d;
    } else if (key == "retry") {
      read_retry(r, v, where, c.retry);
    } else if (key == "breaker") {
      if (r.is_map(v, where)) {
        r.only_keys(v, where, {"failures", "cool_down"});
        if (v["failures"])
          if (auto f = r.integer(v["failures"], where + ".failures", 1, 100000)) c.breaker.failures = int(*f);
        if (v["cool_down"])
          if (auto d = r.duration(v["cool_down"], where + ".cool_down")) c.breaker.cool_down = *d;
      }
    } else if (key == "cost_per_part") {
      if (auto s = r.string(v, where)) {
        char* end = nullptr;
        const double cost = std::strtod(s->c_str(), &end);
        if (s->empty() || *end != '\0' || cost < 0) r.problem(v, where + ": \"" + *s + "\" is not a cost (write e.g. 0.045)");
        else c.cost_per_part = cost;
      }
    } else if (v.IsScalar()) {
      auto s = v.as<std::string>();
      if (std::find(secret_keys.begin(), secret_keys.end(), key) != secret_keys.end() && !is_env_reference(s))
        r.problem(v, where + ": write secrets as an environment reference like ${SMS_GATEWAY_PASSWORD}, never literally");
      if (key == "dir" || key == "ca_file") s = r.resolve(s).string();  // paths, relative to the config file
      c.options[key] = s;
    } else {
      r.problem(v, where + ": must be a single value");
    }
  }
  if (c.kind == "outbox" && !c.options.contains("dir") && c.endpoint.empty())
    r.problem(n, at + ": an outbox connector needs a dir");
  if ((c.kind == "sms_http" || c.kind == "kannel" || c.kind == "smtp") && c.endpoint.empty())
    r.problem(n, at + ": a " + c.kind + " connector needs an endpoint");
}

void read_routing(Reader& r, const YAML::Node& n, Config& config) {
  if (!r.is_map(n, "routing")) return;
  for (const auto& kv : n) {
    const auto name = kv.first.as<std::string>();
    const auto channel = parse_channel(name);
    if (!channel) {
      r.problem(kv.first, "routing: unknown channel \"" + name + "\" (channels are sms, email)");
      continue;
    }
    Route route;
    const auto& v = kv.second;
    const YAML::Node* connector_node = &v;
    YAML::Node connector_key;
    if (v.IsMap()) {
      r.only_keys(v, "routing." + name, {"connector", "fallback"});
      connector_key = v["connector"];
      connector_node = &connector_key;
      if (!connector_key) {
        r.problem(v, "routing." + name + ": name the connector (connector: <name>)");
        continue;
      }
    }
    auto target = r.string(*connector_node, "routing." + name);
    if (!target) continue;
    route.connector = *target;
    if (!config.connector(route.connector))
      r.problem(*connector_node, "routing." + name + ": no connector is named \"" + route.connector + "\"");
    if (v.IsMap() && v["fallback"]) {
      if (auto f = r.string(v["fallback"], "routing." + name + ".fallback")) {
        if (!config.connector(*f)) r.problem(v["fallback"], "routing." + name + ".fallback: no connector is named \"" + *f + "\"");
        else if (*f == route.connector) r.problem(v["fallback"], "routing." + name + ".fallback: must differ from the connector");
        else route.fallback = *f;
      }
    }
    config.routing[*channel] = route;
  }
}

void read_defaults(Reader& r, const YAML::Node& n, Defaults& d) {
  if (!r.is_map(n, "defaults")) return;
  r.only_keys(n, "defaults", {"locale", "timezone", "quiet_hours"});
  if (n["locale"])
    if (auto s = r.string(n["locale"], "defaults.locale")) {
      if (s->empty()) r.problem(n["locale"], "defaults.locale: must not be empty (e.g. zh-CN)");
      else d.locale = *s;
    }
  if (n["timezone"])
    if (auto tz = r.timezone(n["timezone"], "defaults.timezone")) d.timezone = *tz;
  if (n["quiet_hours"])
    if (auto s = r.string(n["quiet_hours"], "defaults.quiet_hours")) {
      if (auto q = parse_quiet_hours(*s)) d.quiet_hours = *q;
      else r.problem(n["quiet_hours"], "defaults.quiet_hours: \"" + *s + "\" is not a window like 21:30-08:00");
    }
}

void read_caps(Reader& r, const YAML::Node& n, std::map<Channel, int>& caps) {
  if (!r.is_map(n, "caps")) return;
  for (const auto& kv : n) {
    const auto name = kv.first.as<std::string>();
    const auto channel = parse_channel(name);
    if (!channel) {
      r.problem(kv.first, "caps: unknown channel \"" + name + "\" (channels are sms, email)");
      continue;
    }
    if (auto v = r.integer(kv.second, "caps." + name, 0, 10000)) caps[*channel] = int(*v);
  }
}

void read_sms(Reader& r, const YAML::Node& n, SmsConfig& s) {
  if (!r.is_map(n, "sms")) return;
  r.only_keys(n, "sms", {"signature", "signature_position", "opt_out_suffix", "max_parts"});
  if (n["signature"])
    if (auto v = r.string(n["signature"], "sms.signature")) s.signature = *v;
  if (n["signature_position"])
    if (auto v = r.string(n["signature_position"], "sms.signature_position")) {
      if (*v == "prefix") s.signature_position = SignaturePosition::prefix;
      else if (*v == "suffix") s.signature_position = SignaturePosition::suffix;
      else r.problem(n["signature_position"], "sms.signature_position: \"" + *v + "\" must be prefix or suffix");
    }
  if (n["opt_out_suffix"])
    if (auto v = r.string(n["opt_out_suffix"], "sms.opt_out_suffix")) s.opt_out_suffix = *v;
  if (n["max_parts"])
    if (auto v = r.integer(n["max_parts"], "sms.max_parts", 1, 10)) s.max_parts = int(*v);
}

void read_schedule(Reader& r, const YAML::Node& n, ScheduleConfig& s) {
  if (!r.is_map(n, "schedule")) return;
  r.only_keys(n, "schedule", {"digest_time", "timezone", "calendar", "cutoff"});
  if (n["digest_time"])
    if (r.clock_time(n["digest_time"], "schedule.digest_time")) s.digest_time = n["digest_time"].as<std::string>();
  if (n["cutoff"])
    if (r.clock_time(n["cutoff"], "schedule.cutoff")) s.cutoff = n["cutoff"].as<std::string>();
  if (n["timezone"])
    if (auto tz = r.timezone(n["timezone"], "schedule.timezone")) s.timezone = *tz;
  if (n["calendar"])
    if (auto p = r.path(n["calendar"], "schedule.calendar", "file")) s.calendar = *p;
}

void read_api(Reader& r, const YAML::Node& n, ApiConfig& a) {
  if (!r.is_map(n, "api")) return;
  r.only_keys(n, "api", {"listen", "max_body", "max_pending_events", "tokens"});
  if (n["max_pending_events"])
    if (auto v = r.integer(n["max_pending_events"], "api.max_pending_events", 1, 10'000'000)) a.max_pending_events = int(*v);
  if (n["listen"])
    if (auto s = r.string(n["listen"], "api.listen")) {
      const auto colon = s->rfind(':');
      int port = -1;
      if (colon != std::string::npos && colon > 0)
        std::from_chars(s->data() + colon + 1, s->data() + s->size(), port);
      if (port < 0 || port > 65535) r.problem(n["listen"], "api.listen: \"" + *s + "\" must be host:port, e.g. 127.0.0.1:8080");
      else a.listen = *s;
    }
  if (n["max_body"])
    if (auto s = r.string(n["max_body"], "api.max_body")) {
      auto size = parse_size(*s);
      if (!size || *size < 1024) r.problem(n["max_body"], "api.max_body: \"" + *s + "\" must be a size of at least 1KiB, e.g. 4MiB");
      else a.max_body_bytes = *size;
    }
  if (const auto tokens = n["tokens"]) {
    if (!tokens.IsSequence()) {
      r.problem(tokens, "api.tokens: must be a list of { name, sha256, role }");
      return;
    }
    for (const auto& t : tokens) {
      if (!r.is_map(t, "api.tokens")) continue;
      r.only_keys(t, "api.tokens", {"name", "sha256", "role"});
      ApiToken token;
      if (t["name"])
        if (auto s = r.string(t["name"], "api.tokens.name")) token.name = *s;
      auto hash = t["sha256"] ? r.string(t["sha256"], "api.tokens.sha256") : std::nullopt;
      if (!hash || hash->size() != 64 ||
          !std::all_of(hash->begin(), hash->end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
        r.problem(t, "api.tokens: sha256 must be the token's SHA-256 as 64 lowercase hex digits (sha256sum)");
      } else {
        token.sha256_hex = *hash;
      }
      auto role = t["role"] ? r.string(t["role"], "api.tokens.role") : std::nullopt;
      if (role && *role == "publisher") token.role = ApiRole::publisher;
      else if (role && *role == "operator") token.role = ApiRole::operator_;
      else if (role && *role == "viewer") token.role = ApiRole::viewer;
      else r.problem(t, "api.tokens: role must be publisher, operator or viewer");
      a.tokens.push_back(std::move(token));
    }
  }
}

void read_dispatch(Reader& r, const YAML::Node& n, DispatchConfig& d) {
  if (!r.is_map(n, "dispatch")) return;
  r.only_keys(n, "dispatch",
              {"backpressure", "max_pending", "drain_timeout", "ledger_batch", "ledger_interval", "ledger_retention",
               "receipt_retention"});
  if (n["backpressure"])
    if (auto s = r.string(n["backpressure"], "dispatch.backpressure")) {
      if (*s == "pause") d.backpressure = BackpressurePolicy::pause;
      else r.problem(n["backpressure"], "dispatch.backpressure: \"" + *s + "\" is not a policy (pause)");
    }
  if (n["max_pending"])
    if (auto v = r.integer(n["max_pending"], "dispatch.max_pending", 10, 10'000'000)) d.max_pending = int(*v);
  if (n["drain_timeout"])
    if (auto v = r.duration(n["drain_timeout"], "dispatch.drain_timeout")) d.drain_timeout = *v;
  if (n["ledger_batch"])
    if (auto v = r.integer(n["ledger_batch"], "dispatch.ledger_batch", 1, 65'536)) d.ledger_batch = int(*v);
  if (n["ledger_interval"])
    if (auto v = r.duration(n["ledger_interval"], "dispatch.ledger_interval")) {
      if (*v > std::chrono::seconds(10)) r.problem(n["ledger_interval"], "dispatch.ledger_interval: at most 10s");
      else d.ledger_interval = *v;
    }
  const auto retention = [&](const char* key, Duration& out) {
    if (!n[key]) return;
    const std::string name = std::string("dispatch.") + key;
    if (auto v = r.duration(n[key], name)) {
      if (*v < std::chrono::hours(24)) r.problem(n[key], name + ": at least 1d");
      else out = *v;
    }
  };
  retention("ledger_retention", d.ledger_retention);
  retention("receipt_retention", d.receipt_retention);
}

void read_privacy(Reader& r, const YAML::Node& n, PrivacyConfig& p) {
  if (!r.is_map(n, "privacy")) return;
  r.only_keys(n, "privacy", {"mask_personal_data"});
  if (n["mask_personal_data"])
    if (auto b = r.boolean(n["mask_personal_data"], "privacy.mask_personal_data")) p.mask_personal_data = *b;
}

void read_logging(Reader& r, const YAML::Node& n, LoggingConfig& l) {
  if (!r.is_map(n, "logging")) return;
  r.only_keys(n, "logging", {"format"});
  if (n["format"])
    if (auto s = r.string(n["format"], "logging.format")) {
      if (*s == "text") l.format = LogFormat::text;
      else if (*s == "json") l.format = LogFormat::json;
      else r.problem(n["format"], "logging.format: \"" + *s + "\" is not a format (text, json)");
    }
}

void read_directory(Reader& r, const YAML::Node& n, DirectoryConfig& d) {
  if (!r.is_map(n, "directory")) return;
  r.only_keys(n, "directory", {"subscribers", "holdings", "watchlist"});
  if (n["subscribers"]) {
    if (auto p = r.path(n["subscribers"], "directory.subscribers", "file")) d.subscribers = *p;
  } else {
    r.problem(n, "directory.subscribers: name the subscribers CSV file");
  }
  if (n["holdings"])
    if (auto p = r.path(n["holdings"], "directory.holdings", "file")) d.holdings = *p;
  if (n["watchlist"])
    if (auto p = r.path(n["watchlist"], "directory.watchlist", "file")) d.watchlist = *p;
}

// Checks that need the whole config: every channel an event type uses is routed.
void cross_check(Reader& r, const YAML::Node& root, const Config& c) {
  for (const auto& t : c.event_types)
    for (const auto& [tier, channels] : t.channels)
      for (Channel ch : channels)
        if (!c.routing.contains(ch) && root["event_types"])
          r.problem_at_line(t.line, "event_types." + t.name + ": sends " + std::string(to_string(ch)) + " to " + tier +
                                        " but routing names no connector for " + std::string(to_string(ch)));
}

}  // namespace

ConfigLoad load_config(const std::filesystem::path& file) {
  ConfigLoad out;
  const std::string name = file.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(name);
  } catch (const YAML::BadFile&) {
    out.problems.push_back({name, 0, "cannot read the configuration file"});
    return out;
  } catch (const YAML::ParserException& e) {
    out.problems.push_back({name, e.mark.line + 1, "YAML syntax: " + e.msg});
    return out;
  }
  if (!root.IsMap()) {
    out.problems.push_back({name, 1, "the configuration must be a mapping of sections (kafka, tiers, event_types, ...)"});
    return out;
  }

  Config c;
  c.source = file;
  Reader r(name, file.parent_path(), out.problems);
  r.only_keys(root, "", {"kafka", "tiers", "event_types", "templates", "connectors", "routing", "defaults", "caps", "sms",
                         "schedule", "api", "dispatch", "privacy", "logging", "storage", "directory"});
  if (root["kafka"]) read_kafka(r, root["kafka"], c.kafka);
  if (root["tiers"]) read_tiers(r, root["tiers"], c.tiers);
  else out.problems.push_back({name, 0, "tiers: list the service tiers, highest priority first"});

  if (const auto types = root["event_types"]; types && r.is_map(types, "event_types")) {
    c.event_types.reserve(types.size());
    for (const auto& kv : types) {
      EventTypeConfig t;
      read_event_type(r, kv.first.as<std::string>(), kv.first, kv.second, c.tiers, t);
      c.event_types.push_back(std::move(t));
    }
  } else if (!types) {
    out.problems.push_back({name, 0, "event_types: configure at least one event type"});
  }
  if (c.event_types.size() > 64)
    r.problem(root["event_types"], "event_types: at most 64 types (opt-outs keep one bit per type)");

  if (root["templates"]) {
    if (auto p = r.path(root["templates"], "templates", "dir")) c.templates = *p;
  } else {
    out.problems.push_back({name, 0, "templates: name the directory of message templates"});
  }

  if (const auto connectors = root["connectors"]) {
    if (!connectors.IsSequence()) {
      r.problem(connectors, "connectors: must be a list of connectors");
    } else {
      std::set<std::string> names;
      for (std::size_t i = 0; i < connectors.size(); ++i) {
        ConnectorConfig cc;
        read_connector(r, connectors[i], i, cc);
        if (!cc.name.empty() && !names.insert(cc.name).second)
          r.problem(connectors[i], "connectors: the name \"" + cc.name + "\" is used twice");
        c.connectors.push_back(std::move(cc));
      }
    }
  }
  if (root["routing"]) read_routing(r, root["routing"], c);
  if (root["defaults"]) read_defaults(r, root["defaults"], c.defaults);
  if (root["caps"]) read_caps(r, root["caps"], c.caps);
  if (root["sms"]) read_sms(r, root["sms"], c.sms);
  if (root["schedule"]) read_schedule(r, root["schedule"], c.schedule);
  if (root["api"]) read_api(r, root["api"], c.api);
  if (root["dispatch"]) read_dispatch(r, root["dispatch"], c.dispatch);
  if (root["privacy"]) read_privacy(r, root["privacy"], c.privacy);
  if (root["logging"]) read_logging(r, root["logging"], c.logging);
  if (root["storage"])
    if (auto p = r.path(root["storage"], "storage", "")) c.storage = *p;
  if (root["directory"]) read_directory(r, root["directory"], c.directory);
  else out.problems.push_back({name, 0, "directory: name the subscribers CSV file (directory: { subscribers: ... })"});
  cross_check(r, root, c);

  if (out.problems.empty()) out.config = std::move(c);
  return out;
}

}  // namespace sunbeam
