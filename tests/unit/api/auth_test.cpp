// Bearer tokens by their SHA-256, roles and their grants, and where an open
// API may listen.
#include "engine/api/auth.h"
#include "tests/support/doctest_result.h"

#include <doctest/doctest.h>
#include <openssl/sha.h>

using namespace sunbeam;

namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

ApiConfig three_roles() {
  ApiConfig api;
  api.tokens = {{"desk", sha256_hex("desk-secret"), ApiRole::publisher},
                {"ops", sha256_hex("ops-secret"), ApiRole::operator_},
                {"dash", sha256_hex("dash-secret"), ApiRole::viewer}};
  return api;
}

std::map<std::string, std::string> bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }

}  // namespace

TEST_CASE("a token is known by its SHA-256 and grants its role's permissions") {
  ApiAuth auth(three_roles());
  CHECK_FALSE(auth.open());

  auto ops = auth.authorize(bearer("ops-secret"), Permission::operate);
  REQUIRE(ops);
  CHECK(ops->name == "ops");
  CHECK(auth.authorize(bearer("ops-secret"), Permission::view).has_value());
  CHECK(auth.authorize(bearer("desk-secret"), Permission::publish).has_value());
  CHECK(auth.authorize(bearer("desk-secret"), Permission::view).has_value());
  CHECK(auth.authorize(bearer("dash-secret"), Permission::view).has_value());

  auto viewer_operates = auth.authorize(bearer("dash-secret"), Permission::operate);
  REQUIRE_FALSE(viewer_operates);
  CHECK(viewer_operates.error().code == "forbidden");
  CHECK(viewer_operates.error().message.find("operator") != std::string::npos);
  CHECK(auth.authorize(bearer("desk-secret"), Permission::operate).error().code == "forbidden");
  CHECK(auth.authorize(bearer("ops-secret"), Permission::publish).error().code == "forbidden");
}

TEST_CASE("no token, a wrong one or a malformed header is unauthorized, and the message never echoes it") {
  ApiAuth auth(three_roles());
  for (const auto& headers : std::vector<std::map<std::string, std::string>>{
           {}, bearer("ops-secreT"), bearer(""), {{"authorization", "Basic b3BzOnNlY3JldA=="}},
           {{"authorization", "ops-secret"}}, bearer(sha256_hex("ops-secret"))}) {
    auto r = auth.authorize(headers, Permission::view);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "unauthorized");
    CHECK(r.error().message.find("secret") == std::string::npos);
  }
  // What needs no token needs none.
  CHECK(auth.authorize({}, Permission::none).has_value());
}

TEST_CASE("with no tokens configured the API is open, which is allowed on loopback only") {
  ApiAuth auth(ApiConfig{});
  CHECK(auth.open());
  auto r = auth.authorize({}, Permission::operate);
  REQUIRE(r);
  CHECK(r->open);
  CHECK(is_loopback_listen("127.0.0.1:8080"));
  CHECK(is_loopback_listen("127.0.0.53:0"));
  CHECK(is_loopback_listen("localhost:8080"));
  CHECK(is_loopback_listen("[::1]:8080"));
  CHECK_FALSE(is_loopback_listen("0.0.0.0:8080"));
  CHECK_FALSE(is_loopback_listen("10.1.2.3:8080"));
  CHECK_FALSE(is_loopback_listen("[::]:8080"));
  CHECK_FALSE(is_loopback_listen("api.internal:8080"));
}
