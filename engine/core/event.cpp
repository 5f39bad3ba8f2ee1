#include "engine/core/event.h"

#include "engine/core/time_format.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>

namespace sunbeam {
namespace {

namespace json = boost::json;

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), is_id_char);
}

// 600519.SH, 000001.SZ, 00700.HK: a code, a dot, an exchange suffix.
bool valid_symbol(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return false;
  const auto code = s.substr(0, dot), exchange = s.substr(dot + 1);
  const auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  return std::all_of(code.begin(), code.end(), alnum) && exchange.size() >= 2 && exchange.size() <= 4 &&
         std::all_of(exchange.begin(), exchange.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

Error missing(std::string field) {
  return make_error("missing_field", "field \"" + field + "\" is required", field);
}

Error invalid(std::string field, std::string why) {
  return make_error("invalid_field", "field \"" + field + "\" " + why, field);
}

constexpr std::array known_fields{"id", "type", "symbol", "occurred_at", "priority", "expires_at", "audience", "data"};

// Reads a required or optional string field; an error when present but not a string.
Result<std::optional<std::string_view>> string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string_view>{};
  if (!v->is_string()) return invalid(std::string(key), "must be a string");
  return std::optional<std::string_view>{std::string_view(v->get_string())};
}

Result<void> parse_audience(const json::value& v, const Config& config, EventAudience& out) {
  if (!v.is_object()) return invalid("audience", "must be an object with \"tiers\" or \"accounts\"");
  const auto& o = v.get_object();
  for (const auto& kv : o) {
    if (kv.key() != "tiers" && kv.key() != "accounts")
      return invalid("audience." + std::string(kv.key()), "is not a known audience field (use \"tiers\" or \"accounts\")");
  }
  if (const auto* tiers = o.if_contains("tiers")) {
    if (!tiers->is_array() || tiers->get_array().empty())
      return invalid("audience.tiers", "must be a non-empty array of tier names");
    for (const auto& t : tiers->get_array()) {
      if (!t.is_string()) return invalid("audience.tiers", "must contain tier names (strings)");
      const std::string name(t.get_string());
      if (!config.tier_index(name))
        return make_error("unknown_tier", "audience.tiers names an unknown tier \"" + name + "\"", "audience.tiers");
      out.tiers.push_back(name);
    }
  }
  if (const auto* accounts = o.if_contains("accounts")) {
    if (!accounts->is_array() || accounts->get_array().empty())
      return invalid("audience.accounts", "must be a non-empty array of account ids or {\"account\", \"data\"} objects");
    std::size_t i = 0;
    for (const auto& a : accounts->get_array()) {
      const std::string field = "audience.accounts[" + std::to_string(i++) + "]";
      NamedAccount named;
      if (a.is_string()) {
        named.account = std::string(a.get_string());
      } else if (a.is_object()) {
        const auto& ao = a.get_object();
        const auto* acc = ao.if_contains("account");
        if (!acc || !acc->is_string()) return invalid(field + ".account", "must be an account id");
        named.account = std::string(acc->get_string());
        if (const auto* data = ao.if_contains("data")) {
          if (!data->is_object()) return invalid(field + ".data", "must be an object");
          named.data = data->get_object();
        }
      } else {
        return invalid(field, "must be an account id or an {\"account\", \"data\"} object");
      }
      if (!valid_id(named.account)) return invalid(field, "is not a valid account id");
      out.accounts.push_back(std::move(named));
    }
  }
  return {};
}

}  // namespace

Result<Event> parse_event(std::string_view text, const Config& config) {
  if (text.size() > max_event_bytes)
    return make_error("too_large", "the event is " + std::to_string(text.size()) + " bytes; the limit is 65536");
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return make_error("malformed_json", "the event is not valid JSON: " + ec.message());
  return parse_event_json(v, config);
}

Result<Event> parse_event_json(const json::value& v, const Config& config) {
  if (!v.is_object()) return make_error("not_an_object", "an event must be a JSON object");
  const auto& o = v.get_object();
  for (const auto& kv : o) {
    if (std::find(known_fields.begin(), known_fields.end(), kv.key()) == known_fields.end())
      return invalid(std::string(kv.key()), "is not an event field (fields: id, type, symbol, occurred_at, priority, "
                                            "expires_at, audience, data)");
  }
  Event e;

  auto id = string_field(o, "id");
  if (!id) return id.error();
  if (!*id) return missing("id");
  if (!valid_id(**id)) return invalid("id", "must be 1-128 characters of A-Z a-z 0-9 . _ : -");
  e.id = std::string(**id);

  auto type = string_field(o, "type");
  if (!type) return type.error();
  if (!*type) return missing("type");
  const EventTypeConfig* type_config = config.event_type(**type);
  if (!type_config) return make_error("unknown_type", "event type \"" + std::string(**type) + "\" is not configured", "type");
  e.type = type_config->name;

  auto symbol = string_field(o, "symbol");
  if (!symbol) return symbol.error();
  if (*symbol) {
    if (!valid_symbol(**symbol)) return invalid("symbol", "must be a security code like 600519.SH or 000001.SZ");
    e.symbol = std::string(**symbol);
  } else if (type_config->symbol_required) {
    return make_error("missing_field", "field \"symbol\" is required for events of type " + e.type, "symbol");
  }

  auto occurred = string_field(o, "occurred_at");
  if (!occurred) return occurred.error();
  if (!*occurred) return missing("occurred_at");
  const auto occurred_ms = parse_rfc3339_ms(**occurred);
  if (!occurred_ms) return invalid("occurred_at", "must be an RFC 3339 time with an offset, e.g. 2026-11-25T08:30:00+08:00");
  e.occurred_at = std::string(**occurred);
  e.occurred_at_ms = *occurred_ms;

  auto priority = string_field(o, "priority");
  if (!priority) return priority.error();
  e.priority = type_config->priority;
  if (*priority) {
    const auto p = parse_priority(**priority);
    if (!p) return invalid("priority", "must be \"normal\" or \"urgent\"");
    e.priority = *p;
  }

  auto expires = string_field(o, "expires_at");
  if (!expires) return expires.error();
  if (*expires) {
    const auto ms = parse_rfc3339_ms(**expires);
    if (!ms) return invalid("expires_at", "must be an RFC 3339 time with an offset");
    if (*ms <= e.occurred_at_ms) return invalid("expires_at", "must be later than occurred_at");
    e.expires_at = std::string(**expires);
    e.expires_at_ms = *ms;
  }

  if (const auto* audience = o.if_contains("audience"); audience && !audience->is_null()) {
    if (auto r = parse_audience(*audience, config, e.audience); !r) return r.error();
  }
  if (type_config->audience == AudienceKind::explicit_accounts && !e.audience.names_accounts())
    return make_error("missing_field", "events of type " + e.type + " must name their recipients in audience.accounts",
                      "audience.accounts");

  if (const auto* data = o.if_contains("data"); data && !data->is_null()) {
    if (!data->is_object()) return invalid("data", "must be an object of template variables");
    e.data = data->get_object();
  }
  return e;
}

json::object to_json(const Event& e) {
  json::object o;
  o["id"] = e.id;
  o["type"] = e.type;
  if (!e.symbol.empty()) o["symbol"] = e.symbol;
  o["occurred_at"] = e.occurred_at;
  o["priority"] = std::string(to_string(e.priority));
  if (e.expires_at) o["expires_at"] = *e.expires_at;
  if (!e.audience.tiers.empty() || e.audience.names_accounts()) {
    json::object audience;
    if (!e.audience.tiers.empty()) {
      json::array tiers;
      for (const auto& t : e.audience.tiers) tiers.emplace_back(t);
      audience["tiers"] = std::move(tiers);
    }
    if (e.audience.names_accounts()) {
      json::array accounts;
      for (const auto& a : e.audience.accounts) {
        if (a.data.empty()) {
          accounts.emplace_back(a.account);
        } else {
          accounts.emplace_back(json::object{{"account", a.account}, {"data", a.data}});
        }
      }
      audience["accounts"] = std::move(accounts);
    }
    o["audience"] = std::move(audience);
  }
  if (!e.data.empty()) o["data"] = e.data;
  return o;
}

std::string canonical_json(const json::value& v) {
  if (v.is_object()) {
    const auto& o = v.get_object();
    std::vector<const json::key_value_pair*> members;
    members.reserve(o.size());
    for (const auto& kv : o) members.push_back(&kv);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      out += json::serialize(json::value(members[i]->key()));
      out += ':';
      out += canonical_json(members[i]->value());
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    const auto& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += ',';
      out += canonical_json(a[i]);
    }
    return out + "]";
  }
  return json::serialize(v);
}

}  // namespace sunbeam
