// What the status index answers: recent events, failures, replays, digest runs.
#include "engine/api/api_shared.h"

namespace sunbeam {

void install_status_routes(HttpServer&, const std::shared_ptr<ApiRoutes::Shared>&) {}

}  // namespace sunbeam
