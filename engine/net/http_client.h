// A small blocking HTTP client (libcurl) for the CLI, which talks to a
// running engine's API. Not for event-loop threads.
#pragma once

#include "engine/core/result.h"

#include <chrono>
#include <string>
#include <vector>

namespace sunbeam {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{30000};
};

struct HttpClientResponse {
  long status = 0;
  std::string body;
};

Result<HttpClientResponse> http_call(const HttpCall& call);

}  // namespace sunbeam
