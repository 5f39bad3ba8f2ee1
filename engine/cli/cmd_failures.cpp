// `sunbeam failures [selectors] [--limit N]`: a client of GET /v1/failures.
// One row per failed delivery, newest first, with its last error; the reason
// is cut to the terminal's width on a terminal and never when piped.
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/terminal.h"
#include "engine/cli/text_table.h"
#include "engine/core/json_fields.h"
#include "engine/core/time_format.h"

#include <ctime>
#include <iostream>

namespace sunbeam::cli {
namespace {

namespace json = boost::json;
using json_fields::string_or;

// "2026-11-25T08:01:02.345+08:00" in this machine's time zone, to the second,
// as the operator's other tools show time; unparsable text is shown as is.
std::string local_time(const std::string& rfc3339) {
  const auto ms = parse_rfc3339_ms(rfc3339);
  if (!ms) return rfc3339;
  const std::time_t t = static_cast<std::time_t>(*ms / 1000);
  std::tm tm{};
  char text[32];
  if (!::localtime_r(&t, &tm) || std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm) == 0) return rfc3339;
  return text;
}

void print_failures(std::ostream& out, const json::object& answer, std::optional<std::size_t> columns) {
  TextTable table({"time", "event", "account", "channel", "tier", "connector", "attempt", "reason"});
  if (const auto* list = answer.if_contains("failures"); list && list->is_array())
    for (const auto& f : list->get_array()) {
      if (!f.is_object()) continue;
      const auto& o = f.get_object();
      table.add({local_time(string_or(o, "time")), string_or(o, "event_id"), string_or(o, "account"), string_or(o, "channel"),
                 string_or(o, "tier"), string_or(o, "connector"), std::to_string(json_fields::int_or(o, "attempt")),
                 string_or(o, "reason")});
    }
  if (table.rows() > 0) table.print(out, columns);
  out << table.rows() << " of " << json_fields::int_or(answer, "total", std::int64_t(table.rows()))
      << " failed deliveries shown\n";
}

}  // namespace

int failures(const GlobalOptions& g, const FailuresOptions& o) {
  auto answer = request_api("GET", failures_url(api_base(g, o.api), o.selector, o.limit), "operator");
  if (!answer) return fail(answer.error());
  if (o.json) {
    print_api_json(*answer);
  } else {
    print_failures(std::cout, answer->body, stdout_columns());
  }
  return exit_ok;
}

}  // namespace sunbeam::cli
