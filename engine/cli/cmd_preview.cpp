// `sunbeam preview --event FILE --account ID [--channel sms|email]`: renders
// exactly what that subscriber would receive, with SMS parts and encoding,
// without sending: the same planner and renderer fanout and dispatch use.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/directory/directory.h"
#include "engine/dispatch/dispatch_role.h"
#include "engine/fanout/audience_planner.h"
#include "templates/template_set.h"

#include <iostream>

namespace sunbeam::cli {

int preview(const GlobalOptions& g, const PreviewOptions& o) {
  std::optional<Channel> only;
  if (!o.channel.empty()) {
    only = parse_channel(o.channel);
    if (!only) {
      report_error("--channel must be sms or email");
      return exit_usage;
    }
  }
  auto config = load_config_or_report(config_path(g));
  if (!config) return exit_user_error;
  auto text = read_input(o.event_file);
  if (!text) {
    report_error(o.event_file + ": cannot read the file");
    return exit_user_error;
  }
  auto event = parse_event(*text, *config);
  if (!event) {
    report_error(o.event_file + ": " + event.error().message);
    return exit_user_error;
  }
  auto directory = load_directory(config->directory, *config);
  report(directory.problems);
  if (!directory.directory.find(o.account)) {
    report_error("account " + o.account + " is not in the subscriber directory");
    return exit_user_error;
  }
  auto templates = TemplateSet::load(config->templates, *config);
  if (!templates.problems.empty() || !templates.set) {
    report(templates.problems);
    return exit_user_error;
  }

  AudiencePlanner planner(*config, directory.directory);
  DeliveryRenderer renderer(*config, *templates.set);
  int shown = 0, failed = 0;
  planner.plan(*event, [&](PlannedDelivery&& p) {
    const auto& d = p.delivery;
    if (d.account != o.account || (only && d.channel != *only)) return;
    ++shown;
    std::cout << "== " << to_string(d.channel) << " to " << (d.recipient.address.empty() ? "-" : d.recipient.address)
              << " (" << d.tier << ", " << d.recipient.locale << "): " << to_string(p.state);
    if (!p.reason.empty()) std::cout << " (" << p.reason << ")";
    std::cout << "\n";
    if (p.state == DeliveryState::suppressed) return;
    auto m = renderer.render(d);
    if (!m) {
      ++failed;
      std::cout << "would fail: " << m.error().message << "\n\n";
      return;
    }
    if (d.channel == Channel::sms) {
      std::cout << m->body << "\n[" << m->parts << (m->parts == 1 ? " part, " : " parts, ") << m->encoding << "]\n\n";
    } else {
      std::cout << "Subject: " << m->subject << "\n\n" << m->body << "\n--- html ---\n" << m->html << "\n\n";
    }
  });
  if (shown == 0) {
    std::cout << "account " << o.account << " is not in the audience of " << event->id << " (" << event->type
              << (only ? ", " + std::string(to_string(*only)) : std::string()) << ")\n";
  }
  return failed ? exit_user_error : exit_ok;
}

}  // namespace sunbeam::cli
