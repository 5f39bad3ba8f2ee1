// The small closed vocabularies of sunbeam's domain (channels, priorities,
// audience kinds), with their spelling in YAML, CSV and JSON.
//
// They live in `config` because config is the bottom of the dependency graph:
// everything else (core types, templates, connectors, roles) may use them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sunbeam {

enum class Channel : std::uint8_t { sms = 0, email = 1 };
inline constexpr std::array<Channel, 2> all_channels{Channel::sms, Channel::email};

enum class Priority : std::uint8_t { normal = 0, urgent = 1 };

// Who hears of an event (SPEC §4 event_types.<type>.audience).
enum class AudienceKind : std::uint8_t {
  all,       // every subscriber whose tier is entitled
  tiers,     // the tiers the event names in `audience.tiers`
  holders,   // subscribers holding the event's symbol
  watchers,  // subscribers with the symbol on their watchlist
  explicit_accounts,  // the accounts the event names in `audience.accounts`
};

constexpr std::string_view to_string(Channel c) { return c == Channel::sms ? "sms" : "email"; }
constexpr std::string_view to_string(Priority p) { return p == Priority::urgent ? "urgent" : "normal"; }
constexpr std::string_view to_string(AudienceKind a) {
  switch (a) {
    case AudienceKind::all: return "all";
    case AudienceKind::tiers: return "tiers";
    case AudienceKind::holders: return "holders";
    case AudienceKind::watchers: return "watchers";
    case AudienceKind::explicit_accounts: return "explicit";
  }
  return "?";
}

constexpr std::optional<Channel> parse_channel(std::string_view s) {
  if (s == "sms") return Channel::sms;
  if (s == "email") return Channel::email;
  return std::nullopt;
}
constexpr std::optional<Priority> parse_priority(std::string_view s) {
  if (s == "normal") return Priority::normal;
  if (s == "urgent") return Priority::urgent;
  return std::nullopt;
}
constexpr std::optional<AudienceKind> parse_audience_kind(std::string_view s) {
  if (s == "all") return AudienceKind::all;
  if (s == "tiers") return AudienceKind::tiers;
  if (s == "holders") return AudienceKind::holders;
  if (s == "watchers") return AudienceKind::watchers;
  if (s == "explicit") return AudienceKind::explicit_accounts;
  return std::nullopt;
}

// A set of channels as a bit mask (subscriber preferences, opt-outs).
class ChannelSet {
 public:
  constexpr ChannelSet() = default;
  constexpr ChannelSet(std::initializer_list<Channel> cs) {
    for (auto c : cs) add(c);
  }
  constexpr void add(Channel c) { bits_ |= bit(c); }
  constexpr bool contains(Channel c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const ChannelSet&) const = default;

 private:
  static constexpr std::uint8_t bit(Channel c) { return std::uint8_t(1u << std::uint8_t(c)); }
  std::uint8_t bits_ = 0;
};

}  // namespace sunbeam
