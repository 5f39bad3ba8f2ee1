// The message templates (SPEC §4): `<dir>/<locale>/<name>.<channel>.mustache`,
// rendered with kainjow/mustache (Debian's libkainjow-mustache-dev), each
// compiled once at load. An SMS template is one text; an e-mail template
// holds a subject, a text part and an HTML part (templates/email_template.h).
// docs/templates.md is the guide for template authors.
//
// What rendering guarantees:
//  - SMS: plain text (no HTML escaping), folded into one paragraph, then
//    composed with the signature and, for marketing types, the opt-out
//    suffix, and counted in parts as a handset would, signature included;
//  - e-mail: the subject and text part are plain text, the HTML part escapes
//    the data; the subject is one line whatever the data holds.
//
// Lifecycle: built by load(), immutable afterwards; render() may be called
// from many threads at once.
#pragma once

#include "config/config.h"
#include "config/problem.h"
#include "engine/core/result.h"
#include "templates/message_template.h"
#include "templates/sms_parts.h"

#include <boost/json/object.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

// The template of the pre-market digest's deliveries (engine/digest): their
// event_type is `digest`, which is not a configured event type, and they are
// rendered from <dir>/<locale>/digest.<channel>.mustache, never as marketing.
inline constexpr std::string_view digest_template = "digest";

struct RenderRequest {
  std::string_view template_name;  // EventTypeConfig::template_name, or digest_template
  std::string_view locale;         // the subscriber's, e.g. "zh-CN"
  Channel channel = Channel::sms;
  const boost::json::object& vars;  // docs/templates.md, "Variables"
  bool marketing = false;           // EventTypeConfig::marketing: adds the SMS opt-out suffix
  // Variables many requests have in common (an event's data, which every
  // delivery of a fan-out carries), laid under `vars`: a top-level name in
  // `vars` hides the one here. Converted for the renderer once and kept for
  // the next requests with equal data (templates/template_values.h).
  const boost::json::object* shared = nullptr;
};

class TemplateSet;

struct TemplateLoad {
  // The compiled templates; null when the directory cannot be read or any
  // template fails to compile (nothing is half-loaded). Missing templates
  // alone leave a usable set: rendering falls back to another locale.
  std::shared_ptr<const TemplateSet> set;
  std::vector<Problem> problems;  // every problem found, file:line: what
};

class TemplateSet {
 public:
  // Compiles every <dir>/<locale>/<name>.<channel>.mustache. Reports each
  // template that does not compile (file:line: what), each file not named
  // that way, each (event type, channel some tier receives, locale in
  // `locales`) that has no template, and, for each channel some digest-held
  // type (`digest: true`) goes by, each locale without the digest template.
  static TemplateLoad load(const std::filesystem::path& dir, const Config& config,
                           std::vector<std::string> locales = {"zh-CN", "en"});

  // Renders the request's template in its locale; when that locale has none,
  // in its language ("en" for "en-US"), then in `fallback_locale`. An error
  // names the template file: "template_missing" when no locale has it, else
  // those of MessageTemplate::render.
  Result<RenderedMessage> render(const RenderRequest& request, const SmsConfig& sms,
                                 std::string_view fallback_locale) const;

  bool has(std::string_view locale, std::string_view template_name, Channel channel) const;
  const std::filesystem::path& dir() const { return dir_; }

  TemplateSet(const TemplateSet&) = delete;
  TemplateSet& operator=(const TemplateSet&) = delete;
  ~TemplateSet();

 private:
  explicit TemplateSet(std::filesystem::path dir);
  // Compiles one file into templates_; false (and a problem) when it does not compile.
  bool load_file(std::string_view locale, const std::filesystem::path& file, std::vector<Problem>& problems);
  // Each (event type, channel some tier receives, locale) without a template,
  // and each (channel a digest-held type goes by, locale) without `digest`.
  void report_missing(const Config& config, const std::vector<std::string>& locales,
                      std::vector<Problem>& problems) const;
  const MessageTemplate* find(std::string_view locale, std::string_view template_name, Channel channel) const;

  std::filesystem::path dir_;
  // Keyed "<locale>/<name>.<channel>", as the file is named under dir_.
  std::map<std::string, std::unique_ptr<const MessageTemplate>, std::less<>> templates_;
  class SharedValues;  // RenderRequest::shared, converted, for the latest few
  std::unique_ptr<SharedValues> shared_values_;
};

}  // namespace sunbeam
