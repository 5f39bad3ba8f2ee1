// `sunbeam check`: validates the config, the templates, the subscriber,
// holdings and watchlist files and the trading calendar; prints every
// problem as file:line: what; exit 1 if there is any.
#include "config/calendar.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/directory/directory.h"
#include "templates/template_set.h"

#include <iostream>

namespace sunbeam::cli {

int check(const GlobalOptions& g) {
  const auto path = config_path(g);
  auto load = load_config(path);
  std::vector<Problem> problems = load.problems;
  if (load.config) {
    const Config& config = *load.config;
    auto templates = TemplateSet::load(config.templates, config);
    problems.insert(problems.end(), templates.problems.begin(), templates.problems.end());
    auto directory = load_directory(config.directory, config);
    problems.insert(problems.end(), directory.problems.begin(), directory.problems.end());
    if (!config.schedule.calendar.empty()) {
      auto calendar = load_trading_calendar(config.schedule.calendar);
      problems.insert(problems.end(), calendar.problems.begin(), calendar.problems.end());
    }
    if (problems.empty())
      std::cout << path.string() << ": ok (" << config.event_types.size() << " event types, "
                << config.connectors.size() << " connectors, " << directory.directory.size() << " subscribers, "
                << directory.directory.holdings_count() << " holdings)\n";
  }
  report(problems);
  if (!problems.empty()) {
    std::cerr << "sunbeam: " << problems.size() << (problems.size() == 1 ? " problem" : " problems") << " found\n";
    return exit_user_error;
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
