#include "engine/dispatch/read_marks.h"

#include <algorithm>

namespace sunbeam {

// The row that says the store was made before read marks (no topic is empty).
constexpr const char* upgraded_row = "";

Result<std::unique_ptr<ReadMarks>> ReadMarks::open(std::shared_ptr<SqliteDb> db, bool existing_store) {
  bool table_existed = false;
  {
    auto lock = db->lock();
    auto table = db->prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'read_marks'");
    if (!table) return table.error();
    table_existed = table->next_row();
  }
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS read_marks ("
                        "  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
                        "  PRIMARY KEY (topic, partition)) WITHOUT ROWID;");
      !r)
    return r.error();
  if (existing_store && !table_existed)
    if (auto r = db->exec(std::string("INSERT OR IGNORE INTO read_marks VALUES ('") + upgraded_row + "', -1, 0); "); !r)
      return r.error();
  std::unique_ptr<ReadMarks> out(new ReadMarks(db));
  {
    auto lock = db->lock();
    auto all = db->prepare("SELECT topic, partition, next_offset FROM read_marks");
    if (!all) return all.error();
    while (all->next_row()) {
      if (all->text_at(0) == upgraded_row) out->upgraded_ = true;
      else out->next_[{all->text_at(0), int(all->int64_at(1))}] = all->int64_at(2);
    }
  }
  if (auto r = db->prepare_all({{&out->put_, "INSERT OR REPLACE INTO read_marks VALUES (?, ?, ?)"}}); !r)
    return r.error();
  return out;
}

bool ReadMarks::maybe_admitted(const std::string& topic, int partition, std::int64_t offset) const {
  const auto it = next_.find(std::pair(topic, partition));
  if (it == next_.end()) return upgraded_;
  return offset < it->second;
}

Result<void> ReadMarks::advance(const std::string& topic, int partition, std::int64_t last_offset,
                                std::optional<std::int64_t> partition_end) {
  const auto it = next_.find(std::pair(topic, partition));
  std::int64_t next = last_offset + 1;
  if (it == next_.end() && upgraded_) {
    if (!partition_end) return {};  // no mark yet: the partition stays maybe admitted
    next = std::max(next, *partition_end);
  }
  if (it != next_.end() && next <= it->second) return {};
  {
    auto lock = db_->lock();
    if (auto r = put_.reset().bind(1, topic).bind(2, std::int64_t(partition)).bind(3, next).run(); !r) return r;
  }
  next_[{topic, partition}] = next;
  return {};
}

}  // namespace sunbeam
