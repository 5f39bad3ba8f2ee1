// sunbeam: one binary, one subcommand per job (SPEC §1). main only parses
// the command line and calls the command; the commands live in cmd_*.cpp.
#include "engine/cli/commands.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#ifndef SUNBEAM_VERSION
#define SUNBEAM_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace sunbeam::cli;
  CLI::App app{"sunbeam: tiered SMS and e-mail notifications for a broker's market events", "sunbeam"};
  app.set_version_flag("--version", "sunbeam " SUNBEAM_VERSION);
  app.require_subcommand(1);

  GlobalOptions g;
  std::string config;
  app.add_option("--config", config, "configuration file (default: $SUNBEAM_CONFIG, else ./sunbeam.yaml)");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  DemoOptions demo_o;
  auto* demo_cmd = app.add_subcommand("demo", "the quickstart: every role on the embedded Kafka with the sample config");
  demo_cmd->add_option("--timeout", demo_o.timeout_seconds, "seconds to wait for every delivery to settle");

  RunOptions run_o;
  auto* run_cmd = app.add_subcommand("run", "run the engine until SIGTERM or SIGINT");
  run_cmd->add_option("--roles", run_o.roles, "comma-separated roles: ingest,fanout,dispatch,api (default: all)");

  auto* check_cmd = app.add_subcommand("check", "validate config, templates, subscribers, holdings and calendar");

  PublishOptions publish_o;
  auto* publish_cmd = app.add_subcommand("publish", "publish events (a JSON object, a JSON array or NDJSON) to the API");
  publish_cmd->add_option("file", publish_o.file, "file of events, or - for stdin")->required();
  publish_cmd->add_option("--api", publish_o.api, "API base URL (default: http://<api.listen> from the config)");

  StatusOptions status_o;
  auto* status_cmd = app.add_subcommand("status", "an event's delivery counts per tier, channel and state");
  status_cmd->add_option("event_id", status_o.event_id, "the event id")->required();
  status_cmd->add_option("--api", status_o.api, "API base URL (default: http://<api.listen> from the config)");
  status_cmd->add_flag("--json", status_o.json, "print the API's JSON");

  PreviewOptions preview_o;
  auto* preview_cmd = app.add_subcommand("preview", "render what one subscriber would receive, without sending");
  preview_cmd->add_option("--event", preview_o.event_file, "event JSON file")->required();
  preview_cmd->add_option("--account", preview_o.account, "account id")->required();
  preview_cmd->add_option("--channel", preview_o.channel, "sms or email (default: both)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (!config.empty()) g.config = config;

  // Logs go to stderr, so stdout carries only what a command prints for people and scripts.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sunbeam"));
  spdlog::set_level(spdlog::level::from_str(g.log_level));
  if (demo_cmd->parsed() && app.get_option("--log-level")->count() == 0) spdlog::set_level(spdlog::level::warn);

  try {
    if (demo_cmd->parsed()) return demo(g, demo_o);
    if (run_cmd->parsed()) return run(g, run_o);
    if (check_cmd->parsed()) return check(g);
    if (publish_cmd->parsed()) return publish(g, publish_o);
    if (status_cmd->parsed()) return status(g, status_o);
    if (preview_cmd->parsed()) return preview(g, preview_o);
  } catch (const std::exception& e) {
    std::cerr << "sunbeam: internal error: " << e.what() << "\n";
    return exit_user_error;
  }
  return exit_usage;
}
