// `sunbeam run [--roles ...]`: runs the engine until SIGTERM or SIGINT.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/runtime/engine.h"

#include <spdlog/spdlog.h>

#include <csignal>

namespace sunbeam::cli {

int run(const GlobalOptions& g, const RunOptions& o) {
  RoleSet roles = RoleSet::all();
  if (!o.roles.empty()) {
    auto parsed = RoleSet::parse(o.roles);
    if (!parsed) {
      report_error(parsed.error().message);
      return exit_usage;
    }
    roles = *parsed;
  }
  auto config = load_config_or_report(config_path(g));
  if (!config) return exit_user_error;
  configure_logging(g, &*config);

  // Block the stop signals in every thread the engine starts, and wait for
  // them here: no async-signal-safety puzzles in handlers.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto engine = Engine::start(*config, EngineOptions{roles, std::nullopt, nullptr});
  if (!engine) {
    report_error(engine.error().message);
    return exit_user_error;
  }
  spdlog::info("sunbeam: running ({}); SIGTERM or Ctrl-C stops", roles.to_string());
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("sunbeam: {} received, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  (*engine)->stop();
  spdlog::info("sunbeam: stopped");
  return exit_ok;
}

}  // namespace sunbeam::cli
