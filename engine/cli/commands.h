// One function per subcommand (SPEC §1), each in its own file; main.cpp only
// parses the command line and calls them. Each returns the process exit code:
// 0 success, 1 a user error (the message says what and where), 2 usage.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sunbeam::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_user_error = 1;
inline constexpr int exit_usage = 2;

struct GlobalOptions {
  std::optional<std::filesystem::path> config;  // --config; else $SUNBEAM_CONFIG; else ./sunbeam.yaml
  std::string log_level = "info";
};

struct DemoOptions { int timeout_seconds = 90; };
struct RunOptions { std::string roles; };
struct PublishOptions { std::string file; std::string api; };
struct StatusOptions { std::string event_id; std::string api; bool json = false; };
struct PreviewOptions { std::string event_file; std::string account; std::string channel; };

int demo(const GlobalOptions& g, const DemoOptions& o);
int run(const GlobalOptions& g, const RunOptions& o);
int check(const GlobalOptions& g);
int publish(const GlobalOptions& g, const PublishOptions& o);
int status(const GlobalOptions& g, const StatusOptions& o);
int preview(const GlobalOptions& g, const PreviewOptions& o);

}  // namespace sunbeam::cli
