#include "engine/dispatch/read_marks.h"

namespace sunbeam {

Result<std::unique_ptr<ReadMarks>> ReadMarks::open(std::shared_ptr<SqliteDb> db) {
  if (auto r = db->exec("CREATE TABLE IF NOT EXISTS read_marks ("
                        "  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
                        "  PRIMARY KEY (topic, partition)) WITHOUT ROWID;");
      !r)
    return r.error();
  std::unique_ptr<ReadMarks> out(new ReadMarks(db));
  {
    auto lock = db->lock();
    auto all = db->prepare("SELECT topic, partition, next_offset FROM read_marks");
    if (!all) return all.error();
    while (all->next_row()) out->next_[{all->text_at(0), int(all->int64_at(1))}] = all->int64_at(2);
  }
  if (auto r = db->prepare_all({{&out->put_, "INSERT OR REPLACE INTO read_marks VALUES (?, ?, ?)"}}); !r)
    return r.error();
  return out;
}

bool ReadMarks::maybe_admitted(const std::string& topic, int partition, std::int64_t offset) const {
  const auto it = next_.find(std::pair(topic, partition));
  return it != next_.end() && offset < it->second;
}

Result<void> ReadMarks::advance(const std::string& topic, int partition, std::int64_t last_offset) {
  auto& next = next_[{topic, partition}];
  if (last_offset < next) return {};
  {
    auto lock = db_->lock();
    if (auto r = put_.reset().bind(1, topic).bind(2, std::int64_t(partition)).bind(3, last_offset + 1).run(); !r)
      return r;
  }
  next = last_offset + 1;
  return {};
}

}  // namespace sunbeam
