// What the CLI asks of the terminal: whether stdin/stdout are one, how wide
// stdout is, and a yes/no question to the person at it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sunbeam::cli {

bool stdin_is_terminal();
bool stdout_is_terminal();
// The width of the terminal stdout writes to; nullopt when stdout is not a
// terminal (piped output is never cut to a width).
std::optional<std::size_t> stdout_columns();
// Asks `question` on stderr ("... [y/N] ") and reads one line from stdin:
// true for y or yes (any case), false for anything else or end of input.
bool confirm(const std::string& question);

}  // namespace sunbeam::cli
