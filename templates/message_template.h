// One template file, compiled: an SMS text (`<name>.sms.mustache`) or an
// e-mail's subject, text and HTML parts (`<name>.email.mustache`,
// templates/email_template.h), and what rendering it produces.
//
// Immutable after compile(); render() may be called from many threads.
#pragma once

#include "config/config.h"
#include "config/problem.h"
#include "engine/core/result.h"
#include "templates/sms_parts.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace sunbeam {

class CompiledTemplate;
struct TemplateValues;

struct RenderedMessage {
  std::string subject;  // e-mail
  std::string text;     // the composed SMS (signature included), or the e-mail's text part
  std::string html;     // e-mail
  SmsParts sms{};       // SMS: encoding and parts of `text`
  bool short_variant = false;  // SMS: the template's short variant was used (the full text was too long)
};

class MessageTemplate {
 public:
  // The compiled file, or the first problem in it (file:line: what).
  static Result<std::unique_ptr<const MessageTemplate>, Problem> compile(const std::filesystem::path& file, Channel channel,
                                                                        std::string_view file_text);

  // SMS: the text folded to one paragraph, composed (signature, opt-out
  // suffix when `marketing`) and counted; when that is more than
  // `sms.max_parts` parts and the file has a short variant (the text after a
  // line `--- short ---`), the short variant instead. E-mail: the subject on one line,
  // the text and HTML parts without blank lines at either end. Errors name
  // the file: "template_render", or "template_empty" for an SMS text or an
  // e-mail subject with nothing in it (a message that says nothing is not
  // worth paying for).
  Result<RenderedMessage> render(const TemplateValues& values, const SmsConfig& sms, bool marketing) const;

  const std::filesystem::path& file() const { return file_; }
  Channel channel() const { return channel_; }

  ~MessageTemplate();
  MessageTemplate(const MessageTemplate&) = delete;
  MessageTemplate& operator=(const MessageTemplate&) = delete;

 private:
  MessageTemplate(std::filesystem::path file, Channel channel);
  Result<RenderedMessage> render_sms(const TemplateValues& values, const SmsConfig& sms, bool marketing) const;
  Result<RenderedMessage> render_sms_text(const CompiledTemplate& t, const TemplateValues& values, const SmsConfig& sms,
                                          bool marketing) const;
  Result<RenderedMessage> render_email(const TemplateValues& values) const;

  std::filesystem::path file_;
  Channel channel_;
  std::unique_ptr<CompiledTemplate> sms_text_;  // SMS
  std::unique_ptr<CompiledTemplate> sms_short_; // SMS, optional: used when the full text has too many parts
  std::unique_ptr<CompiledTemplate> subject_;   // e-mail
  std::unique_ptr<CompiledTemplate> text_;      // e-mail
  std::unique_ptr<CompiledTemplate> html_;      // e-mail
};

}  // namespace sunbeam
