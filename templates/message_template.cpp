#include "templates/message_template.h"

#include "templates/compiled_template.h"
#include "templates/email_template.h"
#include "templates/mustache_data.h"
#include "templates/plain_text.h"

#include <optional>

namespace sunbeam {
namespace {

using Escaping = CompiledTemplate::Escaping;

Error empty_message(const std::filesystem::path& file, std::string_view what) {
  return make_error("template_empty", file.string() + ": " + std::string(what) +
                                          " renders empty: does the event carry the data the template names?");
}

}  // namespace

MessageTemplate::MessageTemplate(std::filesystem::path file, Channel channel) : file_(std::move(file)), channel_(channel) {}
MessageTemplate::~MessageTemplate() = default;

Result<std::unique_ptr<const MessageTemplate>, Problem> MessageTemplate::compile(const std::filesystem::path& file,
                                                                                Channel channel,
                                                                                std::string_view file_text) {
  std::unique_ptr<MessageTemplate> t(new MessageTemplate(file, channel));
  // Assigns the compiled part, or records why it did not compile.
  std::optional<Problem> problem;
  const auto compile_part = [&](std::unique_ptr<CompiledTemplate>& slot, const TemplateSource& source, Escaping escaping) {
    if (problem) return;
    auto compiled = CompiledTemplate::compile(source, escaping);
    if (compiled) slot = std::move(*compiled);
    else problem = compiled.error();
  };
  if (channel == Channel::sms) {
    compile_part(t->sms_text_, TemplateSource{std::string(file_text), file, 1}, Escaping::none);
  } else {
    auto parts = split_email_template(file_text, file);
    if (!parts) return parts.error();
    compile_part(t->subject_, parts->subject, Escaping::none);
    compile_part(t->text_, parts->text, Escaping::none);
    compile_part(t->html_, parts->html, Escaping::html);
  }
  if (problem) return *problem;
  return std::unique_ptr<const MessageTemplate>(std::move(t));
}

Result<RenderedMessage> MessageTemplate::render(const boost::json::object& vars, const SmsConfig& sms,
                                                bool marketing) const {
  return channel_ == Channel::sms ? render_sms(vars, sms, marketing) : render_email(vars);
}

Result<RenderedMessage> MessageTemplate::render_sms(const boost::json::object& vars, const SmsConfig& sms,
                                                    bool marketing) const {
  auto body = sms_text_->render(to_mustache_data(vars));
  if (!body) return body.error();
  const auto paragraph = fold_sms_whitespace(*body);
  if (paragraph.empty()) return empty_message(file_, "the SMS text");
  RenderedMessage m;
  m.text = compose_sms(paragraph, sms, marketing);
  m.sms = count_sms_parts(m.text);
  return m;
}

Result<RenderedMessage> MessageTemplate::render_email(const boost::json::object& vars) const {
  const auto data = to_mustache_data(vars);
  auto subject = subject_->render(data);
  if (!subject) return subject.error();
  auto text = text_->render(data);
  if (!text) return text.error();
  auto html = html_->render(data);
  if (!html) return html.error();
  RenderedMessage m;
  m.subject = subject_line(*subject);
  if (m.subject.empty()) return empty_message(file_, "the subject");
  m.text = trim_blank_lines(*text);
  m.html = trim_blank_lines(*html);
  return m;
}

}  // namespace sunbeam
