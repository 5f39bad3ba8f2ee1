// Tables for people: padding by display columns (Chinese takes two), and
// lines cut to a terminal's width only when one is given.
#include "engine/cli/text_table.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace sunbeam::cli;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("display width counts columns, not bytes") {
  CHECK(display_width("") == 0);
  CHECK(display_width("http 400") == 8);
  CHECK(display_width("张三") == 4);
  CHECK(display_width("【测试证券】ok") == 14);
  CHECK(display_width("\u2026") == 1);
  CHECK(display_width("\xff") == 1);  // not UTF-8: one column a byte
}

TEST_CASE("fit_width cuts with an ellipsis and never splits a character") {
  CHECK(fit_width("short", 10) == "short");
  CHECK(fit_width("exactly10!", 10) == "exactly10!");
  CHECK(fit_width("injected 400 by the gateway", 10) == "injected \u2026");
  CHECK(fit_width("网关拒绝了号码", 6) == "网关\u2026");  // 2+2, the next would need 2 more than the 1 left
  CHECK(display_width(fit_width("网关拒绝了号码", 6)) == 5);
  CHECK(fit_width("anything", 0).empty());
}

TEST_CASE("columns pad to the widest cell; the last column is not padded") {
  TextTable t({"account", "reason"});
  t.add({"A1", "http 400"});
  t.add({"张三丰", "timeout"});
  std::ostringstream out;
  t.print(out);
  CHECK(out.str() ==
        "account  reason\n"
        "-----------------\n"
        "A1       http 400\n"
        "张三丰   timeout\n");
  CHECK(t.rows() == 2);
}

TEST_CASE("a width cuts the last column so every line fits; without one nothing is cut") {
  TextTable t({"event", "reason"});
  const std::string reason = "http 400: {\"error\":\"number not in service\"}";
  t.add({"e1", reason});
  t.add({"e2", "line one\nline two"});
  std::ostringstream cut;
  t.print(cut, 30);
  const auto lines = lines_of(cut.str());
  REQUIRE(lines.size() == 4);
  for (const auto& line : lines) CHECK(display_width(line) <= 30);
  CHECK(lines[2] == "e1     http 400: {\"error\":\"nu\u2026");
  CHECK(lines[3] == "e2     line one line two");  // a cell is one line

  std::ostringstream whole;
  t.print(whole);
  CHECK(lines_of(whole.str())[2] == "e1     " + reason);
}

TEST_CASE("a terminal too narrow for the other columns still shows some of the last") {
  TextTable t({"a-wide-first-column", "reason"});
  t.add({"x", "a long reason of many words"});
  std::ostringstream out;
  t.print(out, 10);
  CHECK(lines_of(out.str())[2] == "x                    a long \u2026");
}
