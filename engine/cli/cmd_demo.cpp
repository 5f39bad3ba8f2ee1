// `sunbeam demo`: the quickstart. Every role in one process on the embedded
// Kafka with config/sample/, publishes the sample events, waits until every
// delivery is settled, prints what happened and where the outbox is.
#include "connectors/outbox/outbox_connector.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/status_table.h"
#include "engine/dispatch/dispatch_role.h"
#include "engine/ingest/ingest.h"
#include "engine/runtime/engine.h"
#include "engine/status/status_view.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace sunbeam::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The sample config: --config, else ./config/sample/sunbeam.yaml, else the
// one in the source tree this binary was built from (build/engine/cli/sunbeam).
fs::path demo_config_path(const GlobalOptions& g) {
  if (g.config) return *g.config;
  const fs::path here = "config/sample/sunbeam.yaml";
  if (fs::exists(here)) return here;
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (auto dir = exe.parent_path(); dir.has_parent_path() && dir != dir.parent_path(); dir = dir.parent_path())
      if (fs::exists(dir / here)) return dir / here;
  return here;
}

std::vector<fs::path> sample_events(const fs::path& config_file) {
  std::vector<fs::path> files;
  const auto dir = config_file.parent_path() / "events";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

IngestReply submit_and_wait(Ingest& ingest, const std::string& body) {
  std::promise<IngestReply> promise;
  auto future = promise.get_future();
  ingest.submit(body, [&promise](IngestReply r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace

int demo(const GlobalOptions& g, const DemoOptions& o) {
  const auto path = demo_config_path(g);
  auto config = load_config_or_report(path);
  if (!config) return exit_user_error;
  if (!config->kafka.embedded())
    std::cerr << "sunbeam: note: " << path.string() << " names a real Kafka (" << config->kafka.brokers
              << "); the demo uses it as configured\n";

  configure_logging(g, &*config);
  // Each demo starts from an empty embedded Kafka (the engine then forgets its
  // local state too), so its outbox starts empty as well.
  std::vector<fs::path> outboxes;
  for (const auto& c : config->connectors)
    if (c.kind == "outbox") {
      outboxes.push_back(outbox_path(c));
      std::error_code ec;
      fs::remove(outboxes.back(), ec);
    }

  std::cout << "sunbeam demo: " << path.string() << "\n";
  auto engine = Engine::start(*config, EngineOptions{RoleSet::all(), "127.0.0.1:0", nullptr});
  if (!engine) {
    report_error(engine.error().message);
    return exit_user_error;
  }

  std::vector<std::string> event_ids;
  std::cout << "\npublishing the sample events:\n";
  for (const auto& file : sample_events(path)) {
    auto body = read_input(file.string());
    if (!body) {
      report_error(file.string() + ": cannot read");
      continue;
    }
    auto reply = submit_and_wait(*(*engine)->ingest(), *body);
    for (const auto& r : reply.results) {
      std::cout << "  " << file.filename().string() << ": " << r.id << " " << to_string(r.outcome);
      if (r.error) std::cout << " (" << r.error->message << ")";
      std::cout << "\n";
      if (r.outcome == IngestOutcome::accepted || r.outcome == IngestOutcome::duplicate) event_ids.push_back(r.id);
    }
  }

  // Deferred deliveries (quiet hours, when the demo runs at night) wait for
  // their time; the demo waits for everything else.
  std::cout << "\nwaiting for every delivery to settle";
  std::cout.flush();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_seconds);
  std::vector<boost::json::object> statuses;
  bool settled = false;
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    statuses.clear();
    settled = true;
    for (const auto& id : event_ids) {
      auto s = (*engine)->status()->event(id);
      if (!s || !s->at_rest()) settled = false;
      if (s) statuses.push_back(s->to_json());
    }
    std::cout << ".";
    std::cout.flush();
  }
  std::cout << (settled ? " done\n\n" : " timed out\n\n");
  print_demo_table(std::cout, statuses);
  (*engine)->stop();

  std::cout << "\n\"digest\" deliveries wait for the pre-market digest; \"deferred\" ones wait out the "
               "subscriber's quiet hours (the embedded Kafka ends with the demo, and they with it; on a real cluster "
               "`sunbeam run` sends them when the window ends); \"suppressed\" ones were refused "
               "(opt-out, entitlement, no address, daily cap): `sunbeam status` shows the reasons.\n";
  for (const auto& outbox : outboxes) std::cout << "outbox: " << fs::absolute(outbox).lexically_normal().string() << "\n";
  if (!settled) {
    report_error("not every delivery settled within " + std::to_string(o.timeout_seconds) + " s");
    return exit_user_error;
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
