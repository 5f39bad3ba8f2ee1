#include "engine/core/result.h"

#include <stdexcept>

namespace sunbeam {

// Reached only when code calls `.value()` on a failed Result: a programming
// error, reported with the error's own words.
void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.code + ": " + e.message);
}

}  // namespace sunbeam
