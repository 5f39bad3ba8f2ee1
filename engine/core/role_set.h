// Which roles a process runs (`sunbeam run --roles ingest,fanout,...`).
#pragma once

#include "engine/core/result.h"

#include <string>
#include <string_view>

namespace sunbeam {

struct RoleSet {
  bool ingest = true;
  bool fanout = true;
  bool dispatch = true;
  bool api = true;

  static RoleSet all() { return {}; }
  // "ingest,fanout,dispatch,api" (any subset, any order). `digest` is named by
  // the SPEC but not part of this build yet: asking for it is an error that
  // says so, rather than a role that silently does nothing.
  static Result<RoleSet> parse(std::string_view list);
  std::string to_string() const;
  bool serves_http() const { return ingest || api; }
};

}  // namespace sunbeam
