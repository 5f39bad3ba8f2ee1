#include "engine/api/api_json.h"

#include "config/units.h"
#include "engine/core/clock.h"
#include "engine/core/time_format.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sunbeam {

namespace json = boost::json;

HttpResponse json_response(unsigned status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

HttpResponse error_response(unsigned status, std::string code, std::string message, std::string field) {
  return json_response(status, json::object{{"error", json::object{{"code", std::move(code)},
                                                                   {"message", std::move(message)},
                                                                   {"field", std::move(field)}}}});
}

std::int64_t now_ms() { return unix_ms(std::chrono::system_clock::now()); }

HttpResponse unavailable(std::string code, std::string message) {
  auto r = error_response(503, std::move(code), std::move(message));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Result<json::object> json_body(const HttpRequest& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(request.body, ec);
  if (ec) return make_error("malformed_json", "the body is not JSON: " + ec.message());
  if (!v.is_object()) return make_error("malformed_json", "the body must be a JSON object");
  return std::move(v.get_object());
}

Result<std::int64_t> parse_time_bound(const std::string& text, std::int64_t now_ms, const std::string& field) {
  if (auto t = parse_rfc3339_ms(text)) return *t;
  if (auto age = parse_duration(text)) return now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(*age).count();
  return make_error("bad_request", field + ": \"" + text + "\" is neither RFC 3339 nor an age such as 30m, 2h, 1d", field);
}

}  // namespace sunbeam
