// One mustache text compiled once at load: an SMS body, or one part of an
// e-mail (subject, text or HTML), and the file it came from, so that a
// problem or a render error names the file and line.
//
// Thread safety: render() may be called from many threads. kainjow's render
// is not const (a failed render records its error in the template object),
// so each template has its own mutex, held only for kainjow's render: about
// 1 µs for an SMS text on a 2-core build machine, while the JSON conversion
// and text shaping around it run unlocked. A whole e-mail render takes about
// 11 µs and one template sustains some 80,000 renders a second, far beyond
// any gateway's rate; different templates never contend. Copying the
// template for each render instead costs about 1 µs, an uncontended lock
// about 6 ns (measurements in docs/templates.md).
#pragma once

#include "config/problem.h"
#include "engine/core/result.h"
#include "templates/template_values.h"

#include <kainjow/mustache.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace sunbeam {

// Template text and where it starts in its file (an e-mail part starts
// below its `--- subject ---` line).
struct TemplateSource {
  std::string text;
  std::filesystem::path file;
  int first_line = 1;
};

class CompiledTemplate {
 public:
  enum class Escaping {
    none,  // plain text: SMS, e-mail subject and text part
    html,  // the HTML part: & < > " ' become entities
  };

  // The template, or the problem (file:line: what) that stops it compiling:
  // a syntax error, or a tag this renderer refuses. Partials ({{> name}})
  // are refused because kainjow looks them up in the data, which would let an
  // event's data supply template text; changing the delimiters ({{=<% %>=}})
  // is refused so that refusing partials stays a simple scan.
  static Result<std::unique_ptr<CompiledTemplate>, Problem> compile(const TemplateSource& source, Escaping escaping);

  // An error (code "template_render") names the file.
  Result<std::string> render(const TemplateValues& values) const;

  const std::filesystem::path& file() const { return file_; }

  CompiledTemplate(const CompiledTemplate&) = delete;
  CompiledTemplate& operator=(const CompiledTemplate&) = delete;

 private:
  CompiledTemplate(const TemplateSource& source, Escaping escaping);

  std::filesystem::path file_;
  mutable std::mutex mutex_;                     // guards template_ during render
  mutable kainjow::mustache::mustache template_;  // compiled on construction
};

}  // namespace sunbeam
