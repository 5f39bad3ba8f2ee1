// What the subcommands share: finding and loading the config, reporting
// problems as `sunbeam: file:line: what`, and the API address and token.
#pragma once

#include "config/config.h"
#include "engine/core/result.h"

#include <boost/json/object.hpp>
#include "engine/cli/commands.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sunbeam::cli {

// --config, else $SUNBEAM_CONFIG, else ./sunbeam.yaml.
std::filesystem::path config_path(const GlobalOptions& g);
// Loads the config; on problems prints each to stderr and returns nullopt.
std::optional<Config> load_config_or_report(const std::filesystem::path& path);
void report(const std::vector<Problem>& problems);
void report_error(const std::string& message);

// --api, else http://<api.listen> from the config (when it loads), else
// http://127.0.0.1:8080; the bearer token from $SUNBEAM_TOKEN.
std::string api_base(const GlobalOptions& g, const std::string& api_flag);
std::vector<std::string> api_headers();

// Calls the engine's API and reads its JSON answer; an unreachable API or an
// answer that is not JSON is an error that says so.
struct ApiAnswer {
  long status = 0;
  boost::json::object body;
  std::string text;  // the body as the API wrote it, for --json
};
Result<ApiAnswer> call_api(const std::string& method, const std::string& url, const std::string& body = {});

// What an operator command needs: a 2xx answer, or an error ready to print
// (api_error_message). `role` is the role the route wants (docs/api.md).
Result<ApiAnswer> request_api(const std::string& method, const std::string& url, std::string_view role,
                              const std::string& body = {});
// Why a non-2xx answer failed: the API's own message; for 401 and 403 also
// to set SUNBEAM_TOKEN to a token with `role`.
std::string api_error_message(const ApiAnswer& answer, const std::string& url, std::string_view role);
// Prints `sunbeam: <message>` and gives the exit code of a user error.
int fail(const Error& error);
// --json: the answer's body as the API wrote it, on stdout.
void print_api_json(const ApiAnswer& answer);
// A path segment of a URL, percent-encoded (an event id may hold ':').
std::string url_segment(std::string_view text);

// Installs the process's logger (engine/logging): --log-level, --log-format,
// and once a config is loaded, its logging.format and privacy switch (personal
// data masked unless privacy.mask_personal_data is false).
void configure_logging(const GlobalOptions& g, const Config* config = nullptr);

// Reads a whole file, or stdin for "-".
std::optional<std::string> read_input(const std::string& file);

}  // namespace sunbeam::cli
