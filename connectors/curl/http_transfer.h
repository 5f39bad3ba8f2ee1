// One HTTP request to a gateway as a CurlTransfer: the connectors that speak
// HTTP (sms_http, kannel) describe the request, this sends it through their
// TransferPool and hands back what came of it. Keeps the libcurl options for
// HTTP in one place: time-out, no redirects, no `Expect: 100-continue`
// (gateways rarely answer it and it costs a round trip), bounded answer.
#pragma once

#include "connectors/curl/transfer_pool.h"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam {

struct HttpGatewayRequest {
  std::string url;                   // already encoded
  bool post = false;                 // POST `body`, else GET
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{10'000};  // the whole transfer, connecting included
};

struct HttpGatewayAnswer {
  CURLcode code = CURLE_OK;  // the transport's verdict
  long status = 0;           // the HTTP status, 0 when none came
  std::string body;          // the first kMaxAnswerBytes of the answer
};

class HttpTransfer final : public CurlTransfer {
 public:
  // Gateways answer in a line or a small JSON object; more is not read into memory.
  static constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

  HttpTransfer(HttpGatewayRequest request, std::function<void(HttpGatewayAnswer)> done);
  ~HttpTransfer() override;

  void prepare(CURL* easy) override;
  void finish(CURLcode result, CURL* easy) override;

 private:
  static std::size_t on_data(char* data, std::size_t size, std::size_t count, void* self);

  HttpGatewayRequest request_;
  std::function<void(HttpGatewayAnswer)> done_;
  curl_slist* headers_ = nullptr;
  std::string answer_;
};

// True when `url` is an absolute http:// or https:// URL with a host (parsed
// by libcurl, which will send it).
bool is_http_url(const std::string& url);

// What a gateway answered, fit for an error message in a record: at most 200
// bytes, on one line, with the recipient's number masked (gateways echo it).
std::string answer_excerpt(std::string_view answer, std::string_view to);

// `value` percent-encoded for a query string (libcurl's encoder: everything
// but letters, digits and -._~).
std::string url_encode(std::string_view value);

}  // namespace sunbeam
