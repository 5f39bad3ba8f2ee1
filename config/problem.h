// A problem found in a file a person wrote (config, template, CSV, event),
// reported as `file:line: what` (SPEC §1).
#pragma once

#include <string>

namespace sunbeam {

struct Problem {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem concerns the whole file
  std::string what;

  std::string to_string() const {
    if (file.empty()) return what;
    if (line <= 0) return file + ": " + what;
    return file + ":" + std::to_string(line) + ": " + what;
  }
};

}  // namespace sunbeam
