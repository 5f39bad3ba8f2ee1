// The console's files as embedded in the binary: each one whole and unchanged
// (the build's hex round trip loses no byte), with its content type, and a
// page that asks for nothing outside the engine.
#include "engine/api/console/console_assets.h"
#include "tests/support/source_dir.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

using namespace sunbeam;

namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("every file of the page is embedded byte for byte, index.html first") {
  const auto assets = console_assets();
  REQUIRE(assets.size() == 3);
  CHECK(assets[0].path == "index.html");
  for (const auto& a : assets) {
    INFO(a.path);
    const auto on_disk = file_text(test::source_dir() / "engine/api/console" / std::string(a.path));
    CHECK(on_disk.size() > 0);
    CHECK(a.body == on_disk);
  }
}

TEST_CASE("content types follow the files' kinds, all UTF-8") {
  for (const auto& a : console_assets()) {
    INFO(a.path);
    const std::string_view ext = a.path.substr(a.path.rfind('.'));
    const std::string_view expected = ext == ".html" ? "text/html; charset=utf-8"
                                      : ext == ".css" ? "text/css; charset=utf-8"
                                                      : "text/javascript; charset=utf-8";
    CHECK(a.content_type == expected);
  }
}

TEST_CASE("the page loads nothing from another host: it must work on a network without internet") {
  for (const auto& a : console_assets()) {
    INFO(a.path);
    CHECK(a.body.find("://") == std::string_view::npos);
    CHECK(a.body.find("@import") == std::string_view::npos);
  }
  // index.html asks for the other two where the engine serves them.
  const auto index = console_assets()[0].body;
  CHECK(index.find("href=\"console/console.css\"") != std::string_view::npos);
  CHECK(index.find("src=\"console/console.js\"") != std::string_view::npos);
}
