// The JSON answers every endpoint shares: a body with a status, and the error
// shape {"error":{"code","message","field"}} (docs/api.md).
#pragma once

#include "engine/core/result.h"
#include "engine/net/http_server.h"

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace sunbeam {

HttpResponse json_response(unsigned status, const boost::json::value& body);
HttpResponse error_response(unsigned status, std::string code, std::string message, std::string field = {});
// 503 with Retry-After: the engine cannot answer yet (loading, Kafka busy).
HttpResponse unavailable(std::string code, std::string message);
// Now, as Unix ms: when an order was given, where an age such as "2h" starts.
std::int64_t now_ms();
// The request body as a JSON object; an empty body is an empty object.
Result<boost::json::object> json_body(const HttpRequest& request);
// RFC 3339 ("2026-11-25T08:00:00+08:00") or an age before now ("30m", "2h",
// "1d"), as Unix ms; field names the parameter in the error.
Result<std::int64_t> parse_time_bound(const std::string& text, std::int64_t now_ms, const std::string& field);

}  // namespace sunbeam
