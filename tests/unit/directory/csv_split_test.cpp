#include "engine/directory/csv_reader.h"
#include "engine/directory/csv_split.h"

#include <doctest/doctest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace sunbeam;

namespace {

struct Record {
  std::vector<std::string> fields;
  int line = 0;
  std::string error;
  bool operator==(const Record&) const = default;
};

std::vector<Record> read_all(CsvReader& csv) {
  std::vector<Record> out;
  std::vector<std::string> f;
  while (csv.next(f)) out.push_back({f, csv.line(), csv.error()});
  return out;
}

std::vector<Record> read_whole(const std::string& text) {
  std::istringstream in(text);
  CsvReader csv(in);
  return read_all(csv);
}

// Each part read by a reader of its own, as the directory's loader does, one after another.
std::vector<Record> read_in_parts(const std::string& text, const CsvSplit& split) {
  std::vector<Record> out;
  for (const auto& part : split.parts) {
    std::istringstream in(text);
    in.seekg(std::streamoff(part.begin));
    CsvReader csv(in, part.first_line, part.end - part.begin);
    for (auto& r : read_all(csv)) out.push_back(std::move(r));
  }
  return out;
}

void check_cover(const std::string& text, const CsvSplit& split) {
  REQUIRE(!split.parts.empty());
  CHECK(split.parts.front().begin == 0);
  CHECK(split.parts.back().end == text.size());
  for (std::size_t i = 1; i < split.parts.size(); ++i) {
    CHECK(split.parts[i].begin == split.parts[i - 1].end);
    CHECK(split.parts[i].begin > split.parts[i - 1].begin);
    CHECK(text[split.parts[i].begin - 1] == '\n');
  }
}

}  // namespace

TEST_CASE("plain rows are cut at newlines into parts of about equal size, each knowing its first line") {
  std::string text = "account_id,symbol\n";
  for (int i = 0; i < 1000; ++i) text += "A" + std::to_string(i) + ",600519.SH\n";
  const auto split = split_csv(text, 4, 1000);
  check_cover(text, split);
  REQUIRE(split.parts.size() == 4);
  CHECK(split.lines == 1002);  // 1,001 newlines, and the empty line after the last
  for (const auto& part : split.parts) CHECK(part.end - part.begin > text.size() / 8);
  CHECK(read_in_parts(text, split) == read_whole(text));
}

TEST_CASE("no cut inside a quoted field, however many lines it spans") {
  // A quoted field with newlines (and an escaped quote) spans the middle of the text.
  std::string text = "a,b\n";
  for (int i = 0; i < 50; ++i) text += "x" + std::to_string(i) + ",y\n";
  text += "q,\"start";
  for (int i = 0; i < 200; ++i) text += "\nstill \"\"inside\"\", line " + std::to_string(i);
  text += "\nend\"\n";
  for (int i = 0; i < 50; ++i) text += "z" + std::to_string(i) + ",w\n";
  const auto split = split_csv(text, 2, 10);
  check_cover(text, split);
  REQUIRE(split.parts.size() == 2);
  CHECK(text.substr(split.parts[1].begin, 3) == "z0,");  // the first boundary after the field
  const auto whole = read_whole(text);
  CHECK(read_in_parts(text, split) == whole);
}

TEST_CASE("a quote inside an unquoted field is text: it does not hold a cut back") {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "O\"Brien" + std::to_string(i) + ",x\n";
  const auto split = split_csv(text, 2, 10);
  check_cover(text, split);
  REQUIRE(split.parts.size() == 2);
  CHECK(split.parts[1].begin < text.size() * 3 / 4);
  CHECK(read_in_parts(text, split) == read_whole(text));
}

TEST_CASE("an unclosed quote: no cut after it; the parts before it still read as the whole") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "r" + std::to_string(i) + ",x\n";
  text += "bad,\"never closed\n";
  for (int i = 0; i < 300; ++i) text += "s" + std::to_string(i) + ",y\n";
  const auto split = split_csv(text, 4, 10);
  check_cover(text, split);
  for (const auto& part : split.parts) CHECK(part.begin <= text.find("bad,"));
  CHECK(read_in_parts(text, split) == read_whole(text));
}

TEST_CASE("small texts and one part are not cut; a byte order mark stays with the first part") {
  CHECK(split_csv("a,b\n1,2\n", 8).parts.size() == 1);  // under the smallest part
  CHECK(split_csv("", 8).parts.size() == 1);
  std::string text = "\xEF\xBB\xBF\"h\",\"g\"\n";
  for (int i = 0; i < 200; ++i) text += "\"" + std::to_string(i) + "\",\"v\"\n";
  CHECK(split_csv(text, 1, 10).parts.size() == 1);
  const auto split = split_csv(text, 3, 10);
  check_cover(text, split);
  CHECK(split.parts.size() == 3);
  const auto whole = read_whole(text);
  REQUIRE(!whole.empty());
  CHECK(whole.front().fields == std::vector<std::string>{"h", "g"});
  CHECK(read_in_parts(text, split) == whole);
}

// Random texts of quoted and unquoted fields, quotes doubled and stray,
// newlines and CRLFs inside and outside quotes: whatever the cuts, the parts
// read one by one give the whole text's records, lines and errors.
TEST_CASE("random CSV: the parts read exactly as the whole") {
  std::mt19937 rng(7);
  const auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const int records = 1 + pick(60);
    for (int r = 0; r < records; ++r) {
      const int fields = 1 + pick(4);
      for (int f = 0; f < fields; ++f) {
        if (f) text += ',';
        switch (pick(6)) {
          case 0: text += "\"q" + std::string(pick(3), '\n') + "\"\"x\"\"" + (pick(2) ? "\r\n" : "") + "\""; break;
          case 1: text += "a\"b"; break;                  // a stray quote
          case 2: text += "\"closed\"" + std::string(pick(2), 't'); break;  // maybe text after it
          case 3: break;                                  // empty
          default: text += "v" + std::to_string(pick(1000));
        }
      }
      text += pick(4) ? "\n" : "\r\n";
    }
    if (pick(10) == 0) text += "\"unclosed\nfield";
    const auto whole = read_whole(text);
    for (std::size_t parts : {2, 3, 7}) {
      const auto split = split_csv(text, parts, 1);
      check_cover(text, split);
      CHECK(read_in_parts(text, split) == whole);
    }
  }
}
