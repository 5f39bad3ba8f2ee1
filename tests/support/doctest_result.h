// Lets doctest print a Result in a failed assertion: the error's words, or "ok".
// (Boost's own operator<< for result needs the value type printable too.)
#pragma once

#include "engine/core/result.h"

#include <doctest/doctest.h>

#include <sstream>

namespace doctest {

template <class T>
struct StringMaker<boost::system::result<T, sunbeam::Error>> {
  static String convert(const boost::system::result<T, sunbeam::Error>& r) {
    if (r) return "ok";
    std::ostringstream s;
    s << "error: " << r.error();
    return s.str().c_str();
  }
};

}  // namespace doctest
