// The e-mail template file (`<name>.email.mustache`, one per locale) holds
// the three parts of the message, each under a marker line:
//
//   {{! comment lines and blank lines may come first }}
//   --- subject ---
//   【评级调整】{{name}}（{{event.symbol}}）
//   --- text ---
//   {{subscriber.name}}您好：
//   ...
//   --- html ---
//   <p>{{subscriber.name}}您好：</p>
//   ...
//
// Each part is mustache on its own. The subject is one line. docs/templates.md
// describes the format for template authors.
#pragma once

#include "config/problem.h"
#include "engine/core/result.h"
#include "templates/compiled_template.h"

#include <filesystem>
#include <string_view>

namespace sunbeam {

struct EmailTemplateSource {
  TemplateSource subject;
  TemplateSource text;
  TemplateSource html;
};

// Splits the file into its parts, each knowing the file line it starts at;
// a problem names the offending line (unknown or repeated marker, text before
// the first marker, a missing part, a subject over several lines).
Result<EmailTemplateSource, Problem> split_email_template(std::string_view file_text, const std::filesystem::path& file);

}  // namespace sunbeam
