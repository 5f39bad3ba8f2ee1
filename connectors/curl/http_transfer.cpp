#include "connectors/curl/http_transfer.h"

#include "engine/core/masking.h"

#include <algorithm>
#include <memory>

namespace sunbeam {

HttpTransfer::HttpTransfer(HttpGatewayRequest request, std::function<void(HttpGatewayAnswer)> done)
    : request_(std::move(request)), done_(std::move(done)) {}

HttpTransfer::~HttpTransfer() {
  if (headers_) curl_slist_free_all(headers_);
}

void HttpTransfer::prepare(CURL* easy) {
  for (const auto& h : request_.headers) headers_ = curl_slist_append(headers_, h.c_str());
  if (request_.post) headers_ = curl_slist_append(headers_, "Expect:");
  curl_easy_setopt(easy, CURLOPT_URL, request_.url.c_str());
  if (request_.post) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request_.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
  }
  if (headers_) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request_.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &HttpTransfer::on_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
}

void HttpTransfer::finish(CURLcode result, CURL* easy) {
  HttpGatewayAnswer answer;
  answer.code = result;
  if (easy) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = std::move(answer_);
  done_(std::move(answer));
}

std::size_t HttpTransfer::on_data(char* data, std::size_t size, std::size_t count, void* self) {
  auto* t = static_cast<HttpTransfer*>(self);
  const std::size_t n = size * count;
  // Past the limit the bytes are read and dropped: refusing them would fail
  // a transfer the gateway has already accepted.
  t->answer_.append(data, std::min(n, kMaxAnswerBytes - std::min(kMaxAnswerBytes, t->answer_.size())));
  return n;
}

bool is_http_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  const bool ok = scheme && host && *host && (std::string_view(scheme) == "http" || std::string_view(scheme) == "https");
  curl_free(scheme);
  curl_free(host);
  return ok;
}

std::string answer_excerpt(std::string_view answer, std::string_view to) {
  std::string out(answer.substr(0, 200));
  if (answer.size() > out.size()) {
    // Cut in the middle of a UTF-8 sequence? Then drop its first bytes too.
    std::size_t lead = out.size();
    while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
      const auto b = static_cast<unsigned char>(out[lead - 1]);
      const std::size_t length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
      if (out.size() - (lead - 1) < length) out.resize(lead - 1);
    }
  }
  for (char& c : out)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // The number as sent, without its +, without +86: gateways echo any of them.
  const std::string masked = mask_phone(to);
  for (std::string_view prefix : {"", "+", "+86"}) {
    if (!to.starts_with(prefix) || to.size() - prefix.size() < 5) continue;
    const std::string_view number = to.substr(prefix.size());
    for (std::size_t at; (at = out.find(number)) != std::string::npos;) out.replace(at, number.size(), masked);
  }
  return out;
}

std::string url_encode(std::string_view value) {
  // The handle argument is unused by libcurl's encoder (documented since 7.82).
  char* e = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
  if (!e) return {};
  std::string out(e);
  curl_free(e);
  return out;
}

}  // namespace sunbeam
