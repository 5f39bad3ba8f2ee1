// A DigestRun as eight columns, in this order, wherever one is stored (the
// digest's own store, the status index): date, trigger, state, accounts,
// messages, items, expired, time_ms.
#pragma once

#include "engine/core/status_record.h"
#include "engine/storage/sqlite_db.h"

namespace sunbeam {

// Binds the eight values from parameter `first` (1-based) on.
inline SqlStatement& bind_digest_run(SqlStatement& s, int first, const DigestRun& run) {
  return s.bind(first, run.date)
      .bind(first + 1, run.trigger)
      .bind(first + 2, run.state)
      .bind(first + 3, run.accounts)
      .bind(first + 4, run.messages)
      .bind(first + 5, run.items)
      .bind(first + 6, run.expired)
      .bind(first + 7, run.time_ms);
}

// Reads the eight columns from column `first` (0-based) on.
inline DigestRun read_digest_run(const SqlStatement& s, int first = 0) {
  return DigestRun{s.text_at(first),      s.text_at(first + 1),  s.text_at(first + 2),  s.int64_at(first + 3),
                   s.int64_at(first + 4), s.int64_at(first + 5), s.int64_at(first + 6), s.int64_at(first + 7)};
}

}  // namespace sunbeam
