// Where the source tree is, for tests that read shipped files (templates,
// golden files, the sample config). ctest sets SUNBEAM_SOURCE_DIR.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace sunbeam::test {

inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("SUNBEAM_SOURCE_DIR");
  return dir ? std::filesystem::path(dir) : std::filesystem::current_path();
}

}  // namespace sunbeam::test
