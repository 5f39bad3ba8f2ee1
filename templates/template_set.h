// The message templates (SPEC §4): `<dir>/<locale>/<name>.<channel>.mustache`,
// mustache rendered by kainjow/mustache (Debian's libkainjow-mustache-dev),
// each compiled once at load.
//
// An SMS template is one text; an e-mail template has three sections,
// `--- subject ---`, `--- text ---` and `--- html ---` (docs/templates.md).
// Only the HTML section escapes HTML; the subject is forced onto one line,
// so no data can add a header.
//
// Immutable after load; render() may be called from many threads.
#pragma once

#include "config/config.h"
#include "config/problem.h"
#include "engine/core/result.h"
#include "templates/sms_parts.h"

#include <boost/json/object.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

struct RenderedMessage {
  std::string subject;  // e-mail
  std::string text;     // the composed SMS (signature included), or the e-mail's text part
  std::string html;     // e-mail
  SmsParts sms{};       // SMS only
};

struct RenderRequest {
  std::string_view template_name;
  std::string_view locale;
  Channel channel = Channel::sms;
  const boost::json::object& vars;
  bool marketing = false;
};

class TemplateSet;

struct TemplateLoad {
  std::shared_ptr<const TemplateSet> set;  // null when a template did not compile
  std::vector<Problem> problems;
};

class TemplateSet {
 public:
  // Compiles every template under `dir`; reports each that does not compile
  // (file:line: what) and each (event type, channel some tier receives,
  // locale in `locales`) without a template.
  static TemplateLoad load(const std::filesystem::path& dir, const Config& config,
                           std::vector<std::string> locales = {"zh-CN", "en"});

  // Renders for the request's locale, else `fallback_locale`; an error names the template.
  Result<RenderedMessage> render(const RenderRequest& request, const SmsConfig& sms,
                                 std::string_view fallback_locale) const;

  bool has(std::string_view locale, std::string_view name, Channel channel) const;

  struct Compiled;  // one template file, compiled
  ~TemplateSet();
  TemplateSet();

 private:
  const Compiled* find(std::string_view locale, std::string_view name, Channel channel) const;
  std::map<std::string, std::unique_ptr<Compiled>, std::less<>> templates_;  // "locale/name.channel"
};

}  // namespace sunbeam
