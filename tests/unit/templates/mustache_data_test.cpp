// Template variables from JSON: how numbers print, what is true in a section.
#include "templates/mustache_data.h"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

using namespace sunbeam;

namespace {

std::string render(std::string_view tmpl, std::string_view json) {
  kainjow::mustache::mustache m{std::string(tmpl)};
  REQUIRE(m.is_valid());
  return m.render(to_mustache_data(boost::json::parse(json).as_object()));
}

std::string number(std::string_view json) { return format_number(boost::json::parse(json)); }

}  // namespace

TEST_CASE("integers print in decimal, never with .0") {
  CHECK(number("1000") == "1000");
  CHECK(number("-5") == "-5");
  CHECK(number("0") == "0");
  CHECK(number("18446744073709551615") == "18446744073709551615");  // uint64
  CHECK(number("100.0") == "100");                                  // a double that is whole
  CHECK(number("-0.0") == "0");
}

TEST_CASE("decimals print as the shortest text that reads back the same, never in exponent form") {
  CHECK(number("28.88") == "28.88");
  CHECK(number("0.1") == "0.1");
  CHECK(number("0.0001") == "0.0001");
  CHECK(number("1e3") == "1000");
  CHECK(number("-3.5") == "-3.5");
  CHECK(number("28.80") == "28.8");  // JSON keeps no trailing zeros: money goes as a string
}

TEST_CASE("strings, objects by dotted names, arrays as lists") {
  CHECK(render("{{name}} {{event.symbol}} {{a.b.c}}", R"({"name":"贵州茅台","event":{"symbol":"600519.SH"},"a":{"b":{"c":1}}})") ==
        "贵州茅台 600519.SH 1");
  CHECK(render("{{#tags}}[{{.}}]{{/tags}}", R"({"tags":["a",2,3.5]})") == "[a][2][3.5]");
  CHECK(render("{{#rows}}{{code}}={{qty}};{{/rows}}", R"({"rows":[{"code":"A","qty":1},{"code":"B","qty":2}]})") ==
        "A=1;B=2;");
  CHECK(render("{{#rows}}x{{/rows}}{{^rows}}none{{/rows}}", R"({"rows":[]})") == "none");
}

TEST_CASE("booleans, null and empty strings drive sections and print nothing") {
  CHECK(render("{{#t}}T{{/t}}{{^f}}F{{/f}}", R"({"t":true,"f":false})") == "TF");
  CHECK(render("[{{t}}][{{f}}][{{n}}]", R"({"t":true,"f":false,"n":null})") == "[][][]");
  CHECK(render("{{^n}}no value{{/n}}", R"({"n":null})") == "no value");
  CHECK(render("{{#s}}target {{s}}{{/s}}{{^s}}no target{{/s}}", R"({"s":""})") == "no target");
  CHECK(render("{{#s}}target {{s}}{{/s}}", R"({"s":"290"})") == "target 290");
  CHECK(render("{{#zero}}zero is true{{/zero}}", R"({"zero":0})") == "zero is true");  // a number prints, so it is true
}
