#include "templates/template_set.h"

#include "templates/mustache_data.h"
#include "templates/template_values.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>

namespace sunbeam {

namespace fs = std::filesystem;

namespace {

std::string template_key(std::string_view locale, std::string_view name, Channel channel) {
  std::string key;
  key.append(locale).append("/").append(name).append(".").append(to_string(channel));
  return key;
}

fs::path template_path(const fs::path& dir, std::string_view locale, std::string_view name, Channel channel) {
  return dir / locale / (std::string(name) + "." + std::string(to_string(channel)) + ".mustache");
}

// "en-US" -> "en", "zh_CN" -> "zh", "en" -> "en".
std::string_view language_of(std::string_view locale) { return locale.substr(0, locale.find_first_of("-_")); }

// The locales render() tries, in order, without repeats.
std::vector<std::string_view> locales_to_try(std::string_view locale, std::string_view fallback) {
  std::vector<std::string_view> out;
  for (auto candidate : {locale, language_of(locale), fallback})
    if (!candidate.empty() && std::find(out.begin(), out.end(), candidate) == out.end()) out.push_back(candidate);
  return out;
}

struct TemplateFile {
  std::string locale;  // the folder it is in
  fs::path path;
};

// Every *.mustache one level below a locale folder, sorted so that problems
// come out in the same order on every machine.
std::vector<TemplateFile> list_template_files(const fs::path& dir, std::vector<Problem>& problems) {
  std::vector<TemplateFile> files;
  std::error_code ec;
  for (const auto& locale_dir : fs::directory_iterator(dir, ec)) {
    std::error_code inner;
    if (!locale_dir.is_directory(inner)) continue;
    for (const auto& entry : fs::directory_iterator(locale_dir.path(), inner))
      if (entry.path().extension() == ".mustache") files.push_back({locale_dir.path().filename().string(), entry.path()});
    if (inner) problems.push_back({locale_dir.path().string(), 0, "cannot list the folder: " + inner.message()});
  }
  if (ec) problems.push_back({dir.string(), 0, "cannot list the templates directory: " + ec.message()});
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

std::optional<std::string> read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  // An editor's byte-order mark would otherwise go out as an invisible,
  // paid-for character at the start of every SMS.
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  return text;
}

// "rating_change.sms.mustache" -> {"rating_change", sms}; nullopt when not so named.
std::optional<std::pair<std::string, Channel>> parse_file_name(const fs::path& file) {
  const auto stem = file.stem().string();  // rating_change.sms
  const auto dot = stem.rfind('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  const auto channel = parse_channel(stem.substr(dot + 1));
  if (!channel) return std::nullopt;
  return std::pair{stem.substr(0, dot), *channel};
}

// Tiers that receive `type` on `channel`, "advisor, research".
std::string tiers_receiving(const EventTypeConfig& type, Channel channel) {
  std::string tiers;
  for (const auto& [tier, channels] : type.channels)
    if (std::find(channels.begin(), channels.end(), channel) != channels.end())
      tiers += (tiers.empty() ? "" : ", ") + tier;
  return tiers;
}

}  // namespace

// The latest few shared data converted, most recent first. A fan-out's
// deliveries come event after event, so one entry serves a whole event;
// comparing the data (no allocation) is what each render pays to reuse it.
// Events whose deliveries each carry their own data just pass through.
class TemplateSet::SharedValues {
 public:
  std::shared_ptr<const kainjow::mustache::data> of(const boost::json::object& data) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = recent_.begin(); it != recent_.end(); ++it)
        if (it->json == data) {
          if (it != recent_.begin()) std::rotate(recent_.begin(), it, std::next(it));
          return recent_.front().values;
        }
    }
    auto values = std::make_shared<const kainjow::mustache::data>(to_mustache_data(data));
    std::lock_guard lock(mutex_);
    recent_.push_front({data, values});
    if (recent_.size() > kKept) recent_.pop_back();
    return values;
  }

 private:
  static constexpr std::size_t kKept = 8;
  struct Entry {
    boost::json::object json;
    std::shared_ptr<const kainjow::mustache::data> values;
  };
  std::mutex mutex_;
  std::deque<Entry> recent_;
};

TemplateSet::TemplateSet(fs::path dir) : dir_(std::move(dir)), shared_values_(std::make_unique<SharedValues>()) {}
TemplateSet::~TemplateSet() = default;

bool TemplateSet::load_file(std::string_view locale, const fs::path& file, std::vector<Problem>& problems) {
  const auto name = parse_file_name(file);
  if (!name) {
    problems.push_back({file.string(), 0, "not a template name: name it <event type>.sms.mustache or <event type>.email.mustache"});
    return false;
  }
  const auto text = read_file(file);
  if (!text) {
    problems.push_back({file.string(), 0, "cannot read the file"});
    return false;
  }
  auto compiled = MessageTemplate::compile(file, name->second, *text);
  if (!compiled) {
    problems.push_back(compiled.error());
    return false;
  }
  templates_.emplace(template_key(locale, name->first, name->second), std::move(*compiled));
  return true;
}

TemplateLoad TemplateSet::load(const fs::path& dir, const Config& config, std::vector<std::string> locales) {
  TemplateLoad out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    out.problems.push_back({dir.string(), 0, "the templates directory does not exist (config key `templates`)"});
    return out;
  }
  std::shared_ptr<TemplateSet> set(new TemplateSet(dir));
  const auto files = list_template_files(dir, out.problems);
  bool complete = out.problems.empty();
  for (const auto& file : files) complete = set->load_file(file.locale, file.path, out.problems) && complete;
  set->report_missing(config, locales, out.problems);
  if (complete) out.set = std::move(set);
  return out;
}

void TemplateSet::report_missing(const Config& config, const std::vector<std::string>& locales,
                                 std::vector<Problem>& problems) const {
  for (const auto& type : config.event_types)
    for (Channel channel : all_channels) {
      const auto tiers = tiers_receiving(type, channel);
      if (tiers.empty()) continue;
      for (const auto& locale : locales)
        if (!has(locale, type.template_name, channel))
          problems.push_back({template_path(dir_, locale, type.template_name, channel).string(), 0,
                              "missing: event type " + type.name + " goes by " + std::string(to_string(channel)) +
                                  " to " + tiers + ", and " + locale + " has no template for it"});
    }
  // Digest-held types reach the subscriber inside one `digest` message per
  // channel, so those channels need the digest template too (the type's own
  // templates stay required above: `sunbeam preview` renders an item alone).
  for (Channel channel : all_channels) {
    std::string held;
    for (const auto& type : config.event_types)
      if (type.digest && !tiers_receiving(type, channel).empty()) held += (held.empty() ? "" : ", ") + type.name;
    if (held.empty()) continue;
    for (const auto& locale : locales)
      if (!has(locale, digest_template, channel))
        problems.push_back({template_path(dir_, locale, digest_template, channel).string(), 0,
                            "missing: " + held + " is held for the digest, which goes by " +
                                std::string(to_string(channel)) + ", and " + locale + " has no digest template for it"});
  }
}

bool TemplateSet::has(std::string_view locale, std::string_view template_name, Channel channel) const {
  return find(locale, template_name, channel) != nullptr;
}

const MessageTemplate* TemplateSet::find(std::string_view locale, std::string_view template_name, Channel channel) const {
  const auto it = templates_.find(template_key(locale, template_name, channel));
  return it == templates_.end() ? nullptr : it->second.get();
}

Result<RenderedMessage> TemplateSet::render(const RenderRequest& request, const SmsConfig& sms,
                                            std::string_view fallback_locale) const {
  const auto locales = locales_to_try(request.locale, fallback_locale);
  for (auto locale : locales)
    if (const auto* t = find(locale, request.template_name, request.channel)) {
      static const kainjow::mustache::data none{kainjow::mustache::data::type::object};
      const auto shared = request.shared ? shared_values_->of(*request.shared) : nullptr;
      const auto own = to_mustache_data(request.vars);
      return t->render(TemplateValues{shared ? *shared : none, own}, sms, request.marketing);
    }
  std::string looked_in;
  for (auto locale : locales)
    looked_in += (looked_in.empty() ? "" : ", ") + template_path(dir_, locale, request.template_name, request.channel).string();
  return make_error("template_missing", "no " + std::string(to_string(request.channel)) + " template " +
                                            std::string(request.template_name) + " for locale " +
                                            std::string(request.locale) + " (looked for " + looked_in + ")");
}

}  // namespace sunbeam
