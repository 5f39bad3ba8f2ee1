#include "engine/cli/cli_support.h"

#include "engine/logging/logging.h"

#include "engine/core/json_fields.h"
#include "engine/net/http_client.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace sunbeam::cli {

std::filesystem::path config_path(const GlobalOptions& g) {
  if (g.config) return *g.config;
  if (const char* env = std::getenv("SUNBEAM_CONFIG"); env && *env) return env;
  return "sunbeam.yaml";
}

void report(const std::vector<Problem>& problems) {
  for (const auto& p : problems) std::cerr << "sunbeam: " << p.to_string() << "\n";
}

void report_error(const std::string& message) { std::cerr << "sunbeam: " << message << "\n"; }

std::optional<Config> load_config_or_report(const std::filesystem::path& path) {
  auto load = load_config(path);
  if (!load.problems.empty() || !load.config) {
    report(load.problems);
    return std::nullopt;
  }
  return std::move(load.config);
}

std::string api_base(const GlobalOptions& g, const std::string& api_flag) {
  if (!api_flag.empty()) return api_flag;
  std::string listen = "127.0.0.1:8080";
  if (std::filesystem::exists(config_path(g))) {
    auto load = load_config(config_path(g));
    if (load.config) listen = load.config->api.listen;
  }
  if (listen.starts_with("0.0.0.0:")) listen = "127.0.0.1:" + listen.substr(8);
  return "http://" + listen;
}

std::vector<std::string> api_headers() {
  std::vector<std::string> headers;
  if (const char* token = std::getenv("SUNBEAM_TOKEN"); token && *token)
    headers.push_back(std::string("Authorization: Bearer ") + token);
  return headers;
}

Result<ApiAnswer> call_api(const std::string& method, const std::string& url, const std::string& body) {
  HttpCall call;
  call.method = method;
  call.url = url;
  call.body = body;
  if (!body.empty()) call.content_type = "application/json";
  call.headers = api_headers();
  auto response = http_call(call);
  if (!response) return response.error();
  auto parsed = json_fields::parse_object(response->body, "api", "the answer of " + url);
  if (!parsed)
    return make_error("api", "the API at " + url + " answered " + std::to_string(response->status) +
                                 " with a body that is not JSON");
  return ApiAnswer{response->status, std::move(*parsed), std::move(response->body)};
}

std::string api_error_message(const ApiAnswer& answer, const std::string& url, std::string_view role) {
  const auto* e = json_fields::object_or_null(answer.body, "error");
  std::string message = e ? json_fields::string_or(*e, "message") : "";
  if (message.empty()) message = "the API at " + url + " answered " + std::to_string(answer.status);
  if (answer.status != 401 && answer.status != 403) return message;
  const bool token_set = !api_headers().empty();
  return message + (token_set ? ": set SUNBEAM_TOKEN to a token with the " : ": SUNBEAM_TOKEN is not set; set it to a token with the ") +
         std::string(role) + " role";
}

Result<ApiAnswer> request_api(const std::string& method, const std::string& url, std::string_view role, const std::string& body) {
  auto answer = call_api(method, url, body);
  if (!answer) return answer.error();
  if (answer->status < 200 || answer->status > 299) return make_error("api", api_error_message(*answer, url, role));
  return answer;
}

int fail(const Error& error) {
  report_error(error.message);
  return exit_user_error;
}

void print_api_json(const ApiAnswer& answer) {
  std::cout << answer.text;
  if (!answer.text.ends_with('\n')) std::cout << "\n";
}

std::string url_segment(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

std::optional<std::string> read_input(const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void configure_logging(const GlobalOptions& g, const Config* config) {
  logging::LogOptions options;
  options.level = g.log_level;
  if (g.log_format == "json") options.format = LogFormat::json;
  else if (g.log_format.empty() && config) options.format = config->logging.format;
  if (config) options.mask_personal_data = config->privacy.mask_personal_data;
  // main() checked the level and the format; nothing else can fail here.
  if (auto r = logging::configure_logging(options); !r) report_error(r.error().message);
}

}  // namespace sunbeam::cli
