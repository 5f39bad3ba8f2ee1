#include "templates/message_template.h"

#include "templates/compiled_template.h"
#include "templates/email_template.h"
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
    // An optional short variant follows a line "--- short ---".
    std::size_t marker = std::string_view::npos, line = 1;
    for (std::size_t pos = 0; pos < file_text.size();) {
      const std::size_t end = std::min(file_text.find('\n', pos), file_text.size());
      std::string_view l = file_text.substr(pos, end - pos);
      if (l.ends_with('\r')) l.remove_suffix(1);
      if (l == "--- short ---") {
        marker = pos;
        break;
      }
      pos = end + 1;
      ++line;
    }
    if (marker == std::string_view::npos) {
      compile_part(t->sms_text_, TemplateSource{std::string(file_text), file, 1}, Escaping::none);
    } else {
      const std::size_t after = std::min(file_text.find('\n', marker), file_text.size());
      compile_part(t->sms_text_, TemplateSource{std::string(file_text.substr(0, marker)), file, 1}, Escaping::none);
      compile_part(t->sms_short_,
                   TemplateSource{std::string(file_text.substr(std::min(after + 1, file_text.size()))), file, int(line) + 1},
                   Escaping::none);
    }
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

Result<RenderedMessage> MessageTemplate::render(const TemplateValues& values, const SmsConfig& sms,
                                                bool marketing) const {
  return channel_ == Channel::sms ? render_sms(values, sms, marketing) : render_email(values);
}

Result<RenderedMessage> MessageTemplate::render_sms(const TemplateValues& values, const SmsConfig& sms,
                                                    bool marketing) const {
  auto full = render_sms_text(*sms_text_, values, sms, marketing);
  if (!full || !sms_short_ || full->sms.parts <= sms.max_parts) return full;
  auto short_text = render_sms_text(*sms_short_, values, sms, marketing);
  if (!short_text) return short_text;
  short_text->short_variant = true;
  return short_text;
}

Result<RenderedMessage> MessageTemplate::render_sms_text(const CompiledTemplate& t, const TemplateValues& values,
                                                         const SmsConfig& sms, bool marketing) const {
  auto body = t.render(values);
  if (!body) return body.error();
  const auto paragraph = fold_sms_whitespace(*body);
  if (paragraph.empty()) return empty_message(file_, "the SMS text");
  RenderedMessage m;
  m.text = compose_sms(paragraph, sms, marketing);
  m.sms = count_sms_parts(m.text);
  return m;
}

Result<RenderedMessage> MessageTemplate::render_email(const TemplateValues& values) const {
  auto subject = subject_->render(values);
  if (!subject) return subject.error();
  auto text = text_->render(values);
  if (!text) return text.error();
  auto html = html_->render(values);
  if (!html) return html.error();
  RenderedMessage m;
  m.subject = subject_line(*subject);
  if (m.subject.empty()) return empty_message(file_, "the subject");
  m.text = trim_blank_lines(*text);
  m.html = trim_blank_lines(*html);
  return m;
}

}  // namespace sunbeam
