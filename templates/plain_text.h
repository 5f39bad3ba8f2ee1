// Shaping rendered plain text for where it goes: an SMS is one paragraph, an
// e-mail subject one header line, an e-mail body without stray blank lines.
#pragma once

#include <string>
#include <string_view>

namespace sunbeam {

// SMS templates are written over several lines and data can carry line
// breaks; a handset shows one paragraph, and every character costs. Each run
// of whitespace becomes one space, the ends are trimmed, and a run holding a
// line break between two Chinese characters disappears altogether (Chinese
// has no spaces between words; CSS folds line breaks the same way).
std::string fold_sms_whitespace(std::string_view text);

// An e-mail subject is a header: one line whatever the data holds. CR, LF,
// NUL, every other control character and the Unicode line separators
// (U+0085, U+2028, U+2029) become spaces, then runs of spaces fold to one and
// the ends are trimmed. This is what keeps "\r\nBcc: x@y" in the data from
// adding a header.
std::string subject_line(std::string_view text);

// An e-mail part without leading or trailing blank lines, CRLF as LF (the
// SMTP connector writes the line ends it needs).
std::string trim_blank_lines(std::string_view text);

}  // namespace sunbeam
