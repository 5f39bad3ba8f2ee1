// One function per subcommand (SPEC §1), each in its own file; main.cpp only
// parses the command line and calls them. Each returns the process exit code:
// 0 success, 1 a user error (the message says what and where), 2 usage.
#pragma once

#include "engine/cli/failure_selector.h"

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
  std::string log_format;  // --log-format text|json; empty: logging.format from the config, else text
};

struct DemoOptions { int timeout_seconds = 90; };
struct RunOptions { std::string roles; };
struct PublishOptions { std::string file; std::string api; };
struct StatusOptions { std::string event_id; std::string api; bool json = false; };
struct PreviewOptions { std::string event_file; std::string account; std::string channel; };

// The operator's commands: clients of the API's operations routes (docs/api.md).
struct FailuresOptions { FailureSelector selector; std::optional<int> limit; bool json = false; std::string api; };
struct ReplayOptions {
  FailureSelector selector;
  bool all = false;      // every failed delivery (a selector is required otherwise)
  bool dry_run = false;  // only count
  bool yes = false;      // no question asked
  bool json = false;
  int timeout_seconds = 600;  // how long to follow the replay's progress
  std::string api;
};
struct CancelOptions { std::string event_id; bool yes = false; bool json = false; std::string api; };
struct ConnectorsOptions {
  enum class Action { list, suspend, resume } action = Action::list;
  std::string name;  // for suspend and resume
  bool json = false;
  std::string api;
};
struct DigestOptions { bool now = false; std::string date; int wait_seconds = 60; bool json = false; std::string api; };

int demo(const GlobalOptions& g, const DemoOptions& o);
int run(const GlobalOptions& g, const RunOptions& o);
int check(const GlobalOptions& g);
int publish(const GlobalOptions& g, const PublishOptions& o);
int status(const GlobalOptions& g, const StatusOptions& o);
int preview(const GlobalOptions& g, const PreviewOptions& o);
int failures(const GlobalOptions& g, const FailuresOptions& o);
int replay(const GlobalOptions& g, const ReplayOptions& o);
int cancel(const GlobalOptions& g, const CancelOptions& o);
int connectors(const GlobalOptions& g, const ConnectorsOptions& o);
int digest(const GlobalOptions& g, const DigestOptions& o);

}  // namespace sunbeam::cli
