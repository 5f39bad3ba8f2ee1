#include "engine/api/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace sunbeam {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = char(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

std::string sha256(std::string_view text) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace

bool grants(ApiRole role, Permission need) {
  switch (need) {
    case Permission::none: return true;
    case Permission::view: return true;  // every role may read
    case Permission::operate: return role == ApiRole::operator_;
    case Permission::publish: return role == ApiRole::publisher;
  }
  return false;
}

ApiAuth::ApiAuth(const ApiConfig& config) {
  for (const auto& t : config.tokens) tokens_.push_back({t.name, from_hex(t.sha256_hex), t.role});
}

Result<Caller> ApiAuth::authorize(const std::map<std::string, std::string>& headers, Permission need) const {
  if (need == Permission::none) return Caller{};
  if (tokens_.empty()) return Caller{"", true};
  const auto it = headers.find("authorization");
  if (it == headers.end() || it->second.size() <= 7 || !it->second.starts_with("Bearer "))
    return make_error("unauthorized", "this endpoint needs a bearer token (Authorization: Bearer <token>)");
  const std::string offered = sha256(std::string_view(it->second).substr(7));
  // Every configured hash is compared (no early exit), each in constant time.
  const Token* match = nullptr;
  for (const auto& t : tokens_)
    if (CRYPTO_memcmp(t.sha256.data(), offered.data(), offered.size()) == 0) match = &t;
  if (!match) return make_error("unauthorized", "the bearer token is not known");
  if (!grants(match->role, need)) {
    static constexpr const char* needed[] = {"", "viewer", "operator", "publisher"};
    return make_error("forbidden", "token \"" + match->name + "\" lacks the " + needed[std::size_t(need)] + " role this needs");
  }
  return Caller{match->name, false};
}

bool is_loopback_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon == std::string::npos ? listen.size() : colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace sunbeam
