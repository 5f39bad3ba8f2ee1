#include "templates/template_set.h"

#include <boost/json/serialize.hpp>
#include <kainjow/mustache.hpp>

#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

namespace sunbeam {

namespace km = kainjow::mustache;
namespace fs = std::filesystem;

namespace {

// Boost.JSON -> kainjow data. Numbers print as JSON writes them (28.88, 1000).
km::data to_data(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return km::data(std::string(v.get_string()));
    case boost::json::kind::bool_: return km::data(v.get_bool());
    case boost::json::kind::null: return km::data(false);
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return km::data(boost::json::serialize(v));
    case boost::json::kind::array: {
      km::data list(km::data::type::list);
      for (const auto& item : v.get_array()) list.push_back(to_data(item));
      return list;
    }
    case boost::json::kind::object: {
      km::data object(km::data::type::object);
      for (const auto& kv : v.get_object()) object.set(std::string(kv.key()), to_data(kv.value()));
      return object;
    }
  }
  return km::data(false);
}

std::string identity(const std::string& s) { return s; }

// kainjow reports "... at <offset>": turn the offset into a line of the file.
int line_of_error(const std::string& message, const std::string& source, int first_line) {
  static const std::regex at(R"(at (\d+))");
  std::smatch m;
  if (!std::regex_search(message, m, at)) return first_line;
  const auto offset = std::min<std::size_t>(std::stoul(m[1]), source.size());
  return first_line + int(std::count(source.begin(), source.begin() + std::ptrdiff_t(offset), '\n'));
}

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n' || c == '\0' || c == '\t') c = ' ';
  return collapse_whitespace(s);
}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && (s[start] == '\n' || s[start] == '\r')) ++start;
  return s.substr(start);
}

}  // namespace

// One template file. kainjow's render() is not const (it keeps per-render
// state in the object), so each template has a mutex; renders of different
// templates run in parallel, and dispatch renders from one thread per
// process today, so the lock is uncontended.
struct TemplateSet::Compiled {
  struct Section {
    std::unique_ptr<km::mustache> tmpl;
  };
  fs::path file;
  Channel channel = Channel::sms;
  Section body;     // SMS text
  Section subject;  // e-mail
  Section text;     // e-mail
  Section html;     // e-mail
  mutable std::mutex mutex;
};

TemplateSet::TemplateSet() = default;
TemplateSet::~TemplateSet() = default;

namespace {

struct SectionSource {
  std::string text;
  int first_line = 1;
};

// Splits an e-mail template into its sections; problems name the file's lines.
bool split_email(const std::string& source, const fs::path& file, std::map<std::string, SectionSource>& sections,
                 std::vector<Problem>& problems) {
  std::istringstream in(source);
  std::string line, current;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("--- ") && line.ends_with(" ---") && line.size() > 8) {
      current = line.substr(4, line.size() - 8);
      if (current != "subject" && current != "text" && current != "html") {
        problems.push_back({file.string(), n, "unknown section \"" + current + "\" (sections: subject, text, html)"});
        return false;
      }
      if (sections.contains(current)) {
        problems.push_back({file.string(), n, "the " + current + " section appears twice"});
        return false;
      }
      sections[current].first_line = n + 1;
      continue;
    }
    if (current.empty()) {
      // Before the first section only mustache comments and blank lines.
      if (!line.empty() && !(line.starts_with("{{!") && line.ends_with("}}"))) {
        problems.push_back({file.string(), n, "text before the first section (start with --- subject ---)"});
        return false;
      }
      continue;
    }
    sections[current].text += line + "\n";
  }
  for (const char* required : {"subject", "text", "html"})
    if (!sections.contains(required)) {
      problems.push_back({file.string(), n, std::string("the ") + required + " section is missing"});
      return false;
    }
  return true;
}

std::unique_ptr<km::mustache> compile(const SectionSource& src, const fs::path& file, bool escape_html,
                                      std::vector<Problem>& problems) {
  auto t = std::make_unique<km::mustache>(src.text);
  if (!t->is_valid()) {
    problems.push_back({file.string(), line_of_error(t->error_message(), src.text, src.first_line), t->error_message()});
    return nullptr;
  }
  if (!escape_html) t->set_custom_escape(identity);
  return t;
}

}  // namespace

TemplateLoad TemplateSet::load(const fs::path& dir, const Config& config, std::vector<std::string> locales) {
  TemplateLoad out;
  auto set = std::make_shared<TemplateSet>();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    out.problems.push_back({dir.string(), 0, "the templates directory does not exist"});
    return out;
  }
  bool compiled_all = true;
  for (const auto& locale_dir : fs::directory_iterator(dir, ec)) {
    if (!locale_dir.is_directory()) continue;
    const auto locale = locale_dir.path().filename().string();
    for (const auto& entry : fs::directory_iterator(locale_dir.path(), ec)) {
      const auto& file = entry.path();
      if (file.extension() != ".mustache") continue;
      const auto stem = file.stem().string();  // name.channel
      const auto dot = stem.rfind('.');
      const auto channel = dot == std::string::npos ? std::nullopt : parse_channel(stem.substr(dot + 1));
      if (!channel) {
        out.problems.push_back({file.string(), 0, "name it <event type>.<sms|email>.mustache"});
        continue;
      }
      std::ifstream in(file, std::ios::binary);
      std::string source((std::istreambuf_iterator<char>(in)), {});
      auto c = std::make_unique<Compiled>();
      c->file = file;
      c->channel = *channel;
      const auto before = out.problems.size();
      if (*channel == Channel::sms) {
        c->body.tmpl = compile({source, 1}, file, false, out.problems);
      } else {
        std::map<std::string, SectionSource> sections;
        if (split_email(source, file, sections, out.problems)) {
          c->subject.tmpl = compile(sections["subject"], file, false, out.problems);
          c->text.tmpl = compile(sections["text"], file, false, out.problems);
          c->html.tmpl = compile(sections["html"], file, true, out.problems);
        }
      }
      if (out.problems.size() != before) {
        compiled_all = false;
        continue;
      }
      set->templates_.emplace(locale + "/" + stem, std::move(c));
    }
  }
  // Every (type, channel some tier receives) needs a template in each locale.
  for (const auto& type : config.event_types) {
    for (Channel channel : all_channels) {
      bool used = false;
      for (const auto& [tier, chans] : type.channels)
        used = used || std::find(chans.begin(), chans.end(), channel) != chans.end();
      if (!used) continue;
      for (const auto& locale : locales)
        if (!set->has(locale, type.template_name, channel))
          out.problems.push_back({(dir / locale / (type.template_name + "." + std::string(to_string(channel)) + ".mustache")).string(), 0,
                                  "missing: event type " + type.name + " is sent by " + std::string(to_string(channel)) +
                                      " and needs a " + locale + " template"});
    }
  }
  if (compiled_all) out.set = std::move(set);
  return out;
}

bool TemplateSet::has(std::string_view locale, std::string_view name, Channel channel) const {
  return find(locale, name, channel) != nullptr;
}

const TemplateSet::Compiled* TemplateSet::find(std::string_view locale, std::string_view name, Channel channel) const {
  std::string key;
  key.append(locale).append("/").append(name).append(".").append(to_string(channel));
  const auto it = templates_.find(key);
  return it == templates_.end() ? nullptr : it->second.get();
}

Result<RenderedMessage> TemplateSet::render(const RenderRequest& req, const SmsConfig& sms,
                                            std::string_view fallback_locale) const {
  const Compiled* c = find(req.locale, req.template_name, req.channel);
  if (!c) c = find(fallback_locale, req.template_name, req.channel);
  if (!c)
    return make_error("template_missing", "no " + std::string(to_string(req.channel)) + " template " +
                                              std::string(req.template_name) + " for locale " + std::string(req.locale) +
                                              " or " + std::string(fallback_locale));
  const km::data data = to_data(boost::json::value(req.vars));
  std::lock_guard lock(c->mutex);
  const auto run = [&](const Compiled::Section& s, std::string& out) -> std::optional<Error> {
    out = s.tmpl->render(data);
    if (!s.tmpl->is_valid())
      return make_error("template_render", c->file.string() + ": " + s.tmpl->error_message());
    return std::nullopt;
  };
  RenderedMessage m;
  if (req.channel == Channel::sms) {
    std::string body;
    if (auto e = run(c->body, body)) return *e;
    m.text = compose_sms(collapse_whitespace(body), sms, req.marketing);
    m.sms = count_sms_parts(m.text);
    return m;
  }
  if (auto e = run(c->subject, m.subject)) return *e;
  if (auto e = run(c->text, m.text)) return *e;
  if (auto e = run(c->html, m.html)) return *e;
  m.subject = one_line(std::move(m.subject));
  m.text = trim_newlines(std::move(m.text));
  m.html = trim_newlines(std::move(m.html));
  return m;
}

}  // namespace sunbeam
