// The operator console's page: index.html, console.css and console.js from
// this folder, embedded in the binary at build time (embed_assets.cmake), so
// the engine serves it with nothing beside it on disk and the page loads
// nothing from anywhere else (a broker's internal network has no internet).
// The page holds no data: it reads everything from the API with the token
// the operator pastes (docs/api.md).
#pragma once

#include <span>
#include <string_view>

namespace sunbeam {

struct ConsoleAsset {
  std::string_view path;          // the file's name in this folder: "index.html", "console.css", "console.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;          // the file's bytes, unchanged
};

// Every file of the page, index.html first. index.html refers to the others
// as "console/<path>", so it is meant to be served at `/` and they at
// `/console/<path>`. The data is static: the span stays valid forever.
std::span<const ConsoleAsset> console_assets();

}  // namespace sunbeam
