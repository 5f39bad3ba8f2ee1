// sunbeam: one binary, one subcommand per job (SPEC §1). main only parses
// the command line and calls the command; the commands live in cmd_*.cpp.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"

#include <CLI/CLI.hpp>

#include <iostream>

#ifndef SUNBEAM_VERSION
#define SUNBEAM_VERSION "0.0.0"
#endif

namespace {

using sunbeam::cli::FailureSelector;

void add_api_option(CLI::App& cmd, std::string& api) {
  cmd.add_option("--api", api, "API base URL (default: http://<api.listen> from the config)");
}

// failures and replay select failed deliveries with the same options.
void add_selector_options(CLI::App& cmd, FailureSelector& s) {
  cmd.add_option("--event", s.event, "only this event's");
  cmd.add_option("--since", s.since, "failed at or after: RFC 3339, or an age such as 30m, 2h, 1d");
  cmd.add_option("--until", s.until, "failed before: RFC 3339, or an age");
  cmd.add_option("--connector", s.connector, "only those that failed on this connector");
  cmd.add_option("--reason", s.reason, "only those whose last error contains this text");
}

}  // namespace

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
  app.add_option("--log-format", g.log_format, "text or json (default: logging.format from the config, else text)")
      ->check(CLI::IsMember({"text", "json"}));

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

  FailuresOptions failures_o;
  auto* failures_cmd = app.add_subcommand("failures", "failed deliveries with their last error, newest first");
  add_selector_options(*failures_cmd, failures_o.selector);
  failures_cmd->add_option("--limit", failures_o.limit, "at most this many (default 100)")->check(CLI::Range(1, 10000));
  failures_cmd->add_flag("--json", failures_o.json, "print the API's JSON");
  add_api_option(*failures_cmd, failures_o.api);

  ReplayOptions replay_o;
  auto* replay_cmd = app.add_subcommand("replay", "re-queue the selected failed deliveries once, and follow them");
  add_selector_options(*replay_cmd, replay_o.selector);
  replay_cmd->add_flag("--all", replay_o.all, "every failed delivery (without it, a selector is required)");
  replay_cmd->add_flag("--dry-run", replay_o.dry_run, "only count the failed deliveries that match");
  replay_cmd->add_flag("--yes", replay_o.yes, "do not ask (required when stdin is not a terminal)");
  replay_cmd->add_option("--timeout", replay_o.timeout_seconds, "seconds to follow the replay (default 600)")
      ->check(CLI::PositiveNumber);
  replay_cmd->add_flag("--json", replay_o.json, "print the API's JSON (the count, or the replay once done)");
  add_api_option(*replay_cmd, replay_o.api);

  CancelOptions cancel_o;
  auto* cancel_cmd = app.add_subcommand("cancel", "cancel an event published by mistake: what is not yet sent ends cancelled");
  cancel_cmd->add_option("event_id", cancel_o.event_id, "the event id")->required();
  cancel_cmd->add_flag("--yes", cancel_o.yes, "do not ask (required when stdin is not a terminal)");
  cancel_cmd->add_flag("--json", cancel_o.json, "print the API's JSON");
  add_api_option(*cancel_cmd, cancel_o.api);

  ConnectorsOptions connectors_o;
  auto* connectors_cmd = app.add_subcommand("connectors", "list connectors with state, rate and breaker; suspend or resume one");
  connectors_cmd->require_subcommand(0, 1);
  connectors_cmd->add_flag("--json", connectors_o.json, "print the API's JSON");
  add_api_option(*connectors_cmd, connectors_o.api);
  auto* suspend_cmd = connectors_cmd->add_subcommand("suspend", "stop sending through it: its deliveries wait, nothing is dropped");
  suspend_cmd->add_option("name", connectors_o.name, "the connector's name")->required();
  auto* resume_cmd = connectors_cmd->add_subcommand("resume", "send through it again");
  resume_cmd->add_option("name", connectors_o.name, "the connector's name")->required();
  // `connectors suspend sms --api URL`: the options after NAME are the parent's.
  suspend_cmd->fallthrough();
  resume_cmd->fallthrough();

  DigestOptions digest_o;
  auto* digest_cmd = app.add_subcommand("digest", "build and send the pre-market digest now (it is normally scheduled)");
  digest_cmd->add_flag("--now", digest_o.now, "send it now (required)");
  digest_cmd->add_option("--date", digest_o.date, "the day's digest, YYYY-MM-DD (default: today in schedule.timezone)");
  digest_cmd->add_option("--wait", digest_o.wait_seconds, "seconds to wait for the run to be recorded (default 60; 0: do not wait)")
      ->check(CLI::NonNegativeNumber);
  digest_cmd->add_flag("--json", digest_o.json, "print the API's JSON of the run");
  add_api_option(*digest_cmd, digest_o.api);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (!config.empty()) g.config = config;

  // Logs go to stderr, so stdout carries only what a command prints for people and scripts.
  if (demo_cmd->parsed() && app.get_option("--log-level")->count() == 0) g.log_level = "warn";
  configure_logging(g);  // again with the config's switches by the commands that load one

  try {
    if (demo_cmd->parsed()) return demo(g, demo_o);
    if (run_cmd->parsed()) return run(g, run_o);
    if (check_cmd->parsed()) return check(g);
    if (publish_cmd->parsed()) return publish(g, publish_o);
    if (status_cmd->parsed()) return status(g, status_o);
    if (preview_cmd->parsed()) return preview(g, preview_o);
    if (failures_cmd->parsed()) return failures(g, failures_o);
    if (replay_cmd->parsed()) return replay(g, replay_o);
    if (cancel_cmd->parsed()) return cancel(g, cancel_o);
    if (connectors_cmd->parsed()) {
      if (suspend_cmd->parsed()) connectors_o.action = ConnectorsOptions::Action::suspend;
      if (resume_cmd->parsed()) connectors_o.action = ConnectorsOptions::Action::resume;
      return connectors(g, connectors_o);
    }
    if (digest_cmd->parsed()) return digest(g, digest_o);
  } catch (const std::exception& e) {
    std::cerr << "sunbeam: internal error: " << e.what() << "\n";
    return exit_user_error;
  }
  return exit_usage;
}
