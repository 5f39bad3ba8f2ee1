// Cuts a CSV text into parts that can be read at the same time, each
// starting on a record boundary, and says which line each part starts on.
//
// A record boundary is a newline outside a quoted field, read exactly as
// CsvReader reads one: a quote opens a quoted field only as the first byte of
// a field (at the start of the text or a line, or after a comma), inside one
// a doubled quote is a quote, and any other quote closes it. A cut never
// lands inside a quoted field, so the parts' records are the text's records.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace sunbeam {

struct CsvPart {
  std::size_t begin = 0, end = 0;  // [begin, end) of the text
  int first_line = 1;              // the 1-based line `begin` is on
};

struct CsvSplit {
  std::vector<CsvPart> parts;  // in order, covering the text; one if it cannot be cut
  std::size_t lines = 0;       // newlines + 1: an upper bound on the records
};

// At most `parts` parts of about equal size, none smaller than `smallest` bytes.
CsvSplit split_csv(std::string_view text, std::size_t parts, std::size_t smallest = std::size_t(1) << 20);

}  // namespace sunbeam
