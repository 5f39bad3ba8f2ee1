// Errors as values at boundaries: `Result<T, E>` is Boost.System's `result`
// (a well-kept std::expected for C++20). `Error` is the error people read.
#pragma once

#include <boost/system/result.hpp>

#include <ostream>
#include <string>
#include <utility>

namespace sunbeam {

// An error meant for a person (and, through the API, a program):
// `code` is a stable machine word ("invalid_field", "unknown_type", ...),
// `message` says what and where, `field` names the offending input field.
struct Error {
  std::string code;
  std::string message;
  std::string field;
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T, class E = Error>
using Result = boost::system::result<T, E>;

// So that a failed Result prints its reason (tests, logs).
inline std::ostream& operator<<(std::ostream& os, const Error& e) {
  os << e.code << ": " << e.message;
  if (!e.field.empty()) os << " [" << e.field << "]";
  return os;
}

inline Error make_error(std::string code, std::string message, std::string field = {}) {
  return Error{std::move(code), std::move(message), std::move(field)};
}

}  // namespace sunbeam
