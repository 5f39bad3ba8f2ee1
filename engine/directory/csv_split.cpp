#include "engine/directory/csv_split.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace sunbeam {
namespace {

constexpr auto npos = std::string_view::npos;

// The text's quoted fields in order, found by jumping from quote to quote
// (memchr), so a text with few quotes is walked at memory speed.
class QuotedFields {
 public:
  explicit QuotedFields(std::string_view text) : text_(text) {
    // CsvReader skips a UTF-8 byte order mark: the first field starts after it.
    if (text_.starts_with("\xEF\xBB\xBF")) first_field_ = 3;
    next();
  }
  // The current field's opening and closing quotes; `open` is npos when
  // there are no more, `close` npos when the field is never closed.
  std::size_t open() const { return open_; }
  std::size_t close() const { return close_; }

  void next() {
    open_ = close_ = npos;
    for (std::size_t q = find_quote(search_); q != npos; q = find_quote(q + 1)) {
      if (!starts_field(q)) continue;  // a quote inside an unquoted field is text
      open_ = q;
      for (std::size_t c = find_quote(q + 1); c != npos; c = find_quote(c + 2)) {
        if (c + 1 < text_.size() && text_[c + 1] == '"') continue;  // "" is a quote
        close_ = c;
        search_ = c + 1;
        return;
      }
      search_ = text_.size();
      return;
    }
    search_ = text_.size();
  }

 private:
  std::size_t find_quote(std::size_t from) const {
    if (from >= text_.size()) return npos;
    const void* p = std::memchr(text_.data() + from, '"', text_.size() - from);
    return p ? std::size_t(static_cast<const char*>(p) - text_.data()) : npos;
  }
  bool starts_field(std::size_t q) const {
    return q == first_field_ || (q > first_field_ && (text_[q - 1] == ',' || text_[q - 1] == '\n'));
  }

  std::string_view text_;
  std::size_t first_field_ = 0;
  std::size_t search_ = 0;
  std::size_t open_ = npos, close_ = npos;
};

std::size_t count_newlines(std::string_view text) {
  std::size_t n = 0;
  for (const char *p = text.data(), *end = p + text.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', std::size_t(end - p)))); ++p)
    ++n;
  return n;
}

}  // namespace

CsvSplit split_csv(std::string_view text, std::size_t parts, std::size_t smallest) {
  const std::size_t wanted = std::max<std::size_t>(1, std::min(parts, text.size() / std::max<std::size_t>(smallest, 1)));
  std::vector<std::size_t> cuts;
  std::optional<QuotedFields> quoted;  // walked only when the text is cut
  if (wanted > 1) quoted.emplace(text);
  for (std::size_t k = 1; k < wanted; ++k) {
    // The first record boundary at or after this part's share of the text.
    std::size_t from = std::max(text.size() / wanted * k, cuts.empty() ? 0 : cuts.back());
    std::size_t cut = npos;
    while (from < text.size()) {
      const std::size_t newline = text.find('\n', from);
      if (newline == npos) break;
      while (quoted->open() != npos && quoted->close() != npos && quoted->close() < newline) quoted->next();
      if (quoted->open() != npos && quoted->open() < newline) {  // inside a quoted field: after it
        if (quoted->close() == npos) break;
        from = quoted->close() + 1;
        continue;
      }
      cut = newline + 1;
      break;
    }
    if (cut == npos || cut >= text.size()) break;
    if (cuts.empty() || cut > cuts.back()) cuts.push_back(cut);
  }

  CsvSplit out;
  std::size_t begin = 0, line = 1;
  cuts.push_back(text.size());
  for (const std::size_t end : cuts) {
    out.parts.push_back({begin, end, int(line)});
    line += count_newlines(text.substr(begin, end - begin));
    begin = end;
  }
  out.lines = line;
  return out;
}

}  // namespace sunbeam
