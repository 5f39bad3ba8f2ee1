// An RFC 4180 CSV reader that knows the line each record starts on.
//
// Written by hand: Debian's libcsv reports fields through callbacks without
// line numbers, and every problem sunbeam reports must name its line; a
// quoted field may span lines, so a record's line is not its ordinal.
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace sunbeam {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in);
  // Reads a part of a file (split_csv): at most `limit` bytes from where `in`
  // stands, which is on line `first_line`; a byte order mark is skipped only
  // at line 1, a file's start.
  CsvReader(std::istream& in, int first_line, std::size_t limit);
  // Reads the next record into `fields`; false at the end of the input.
  // `line()` is then the 1-based line the record started on, and `error()`
  // says what was wrong with it (an unclosed quote), if anything.
  bool next(std::vector<std::string>& fields);
  int line() const { return record_line_; }
  const std::string& error() const { return error_; }

 private:
  bool fill();
  int get();  // next byte or -1
  void take_plain(std::string& field);

  std::istream& in_;
  std::size_t unread_;  // bytes this reader may still take from in_
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  int current_line_ = 1;
  int record_line_ = 0;
  bool at_start_ = true;
  std::string error_;
};

}  // namespace sunbeam
