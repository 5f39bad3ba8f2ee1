// Who may call what (docs/api.md, "Authentication and roles"). Bearer tokens
// are configured only as SHA-256 hashes with a role; the offered token is
// hashed and compared with every configured hash in constant time, so neither
// the token nor the timing of a comparison tells an attacker anything.
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <map>
#include <string>

namespace sunbeam {

// What an endpoint requires. A role grants: viewer {view}; operator {view,
// operate}; publisher {view, publish}.
enum class Permission : std::uint8_t { none, view, operate, publish };

struct Caller {
  std::string name;  // the token's configured name; "" when the API is open
  bool open = false; // no tokens configured (loopback only)
};

class ApiAuth {
 public:
  explicit ApiAuth(const ApiConfig& config);

  // The caller, or an error whose code is "unauthorized" (401: no or an
  // unknown token) or "forbidden" (403: the token's role lacks `need`).
  Result<Caller> authorize(const std::map<std::string, std::string>& headers, Permission need) const;
  bool open() const { return tokens_.empty(); }

 private:
  struct Token {
    std::string name;
    std::string sha256;  // 32 raw bytes
    ApiRole role;
  };
  std::vector<Token> tokens_;
};

bool grants(ApiRole role, Permission need);

// Whether `listen` (host:port) binds only the loopback interface; an API
// without tokens may only listen there.
bool is_loopback_listen(const std::string& listen);

}  // namespace sunbeam
