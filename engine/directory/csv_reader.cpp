#include "engine/directory/csv_reader.h"

#include <algorithm>

namespace sunbeam {

CsvReader::CsvReader(std::istream& in) : CsvReader(in, 1, std::size_t(-1)) {}

CsvReader::CsvReader(std::istream& in, int first_line, std::size_t limit)
    : in_(in), unread_(limit), buffer_(1 << 20), current_line_(first_line), at_start_(first_line == 1) {}

bool CsvReader::fill() {
  in_.read(buffer_.data(), std::streamsize(std::min(buffer_.size(), unread_)));
  end_ = std::size_t(in_.gcount());
  unread_ -= end_;
  pos_ = 0;
  return end_ > 0;
}

int CsvReader::get() {
  if (pos_ == end_ && !fill()) return -1;
  return static_cast<unsigned char>(buffer_[pos_++]);
}

// The rest of a run of bytes that mean nothing to CSV, appended at once: byte
// by byte, parsing was over a quarter of a 10M directory load (bench/NOTES.md).
void CsvReader::take_plain(std::string& field) {
  std::size_t end = pos_;
  while (end < end_) {
    const char b = buffer_[end];
    if (b == ',' || b == '\n' || b == '"' || b == '\r') break;
    ++end;
  }
  field.append(buffer_.data() + pos_, end - pos_);
  pos_ = end;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  fields.clear();
  error_.clear();
  int c = get();
  if (at_start_) {
    at_start_ = false;
    // A UTF-8 byte order mark is not part of the first header name.
    if (c == 0xEF) {
      const int b = get(), d = get();
      if (b == 0xBB && d == 0xBF) c = get();
      else error_ = "unexpected bytes at the start of the file";
    }
  }
  if (c == -1) return false;
  record_line_ = current_line_;
  std::string field;
  bool quoted = false, after_quote = false;
  for (;; c = get()) {
    if (quoted) {
      if (c == -1) {
        error_ = "a quoted field is not closed";
        fields.push_back(std::move(field));
        return true;
      }
      if (c == '"') {
        const int n = get();
        if (n == '"') {
          field.push_back('"');
          continue;
        }
        quoted = false;
        after_quote = true;
        c = n;  // fall through to the unquoted handling of the next byte
      } else {
        if (c == '\n') ++current_line_;
        field.push_back(char(c));
        continue;
      }
    }
    if (c == -1 || c == '\n') {
      if (c == '\n') ++current_line_;
      if (!field.empty() && field.back() == '\r' && !after_quote) field.pop_back();
      fields.push_back(std::move(field));
      return true;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '"' && field.empty() && !after_quote) {
      quoted = true;
    } else if (c == '\r' && after_quote) {
      // CRLF after a closing quote
    } else {
      if (after_quote && error_.empty()) error_ = "text after a closing quote";
      field.push_back(char(c));
      if (!after_quote) take_plain(field);
    }
  }
}

}  // namespace sunbeam
