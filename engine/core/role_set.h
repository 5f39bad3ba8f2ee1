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
  bool digest = true;
  bool api = true;

  static RoleSet all() { return {}; }
  // "ingest,fanout,dispatch,digest,api" (any subset, any order).
  static Result<RoleSet> parse(std::string_view list);
  std::string to_string() const;
  bool serves_http() const { return ingest || api; }
};

}  // namespace sunbeam
