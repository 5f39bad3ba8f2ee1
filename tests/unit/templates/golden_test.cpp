// Golden files: tests/unit/templates/golden/<case>.json names a template, a
// locale, a channel and the variables; <case>.ref is what rendering must
// produce. Every shipped template has a case in each locale, rendered with
// the data fields the sample events carry; further cases pin down escaping,
// subjects, formatting and fallback.
//
// On a mismatch the test says where the texts part and writes what it got
// to golden-actual/<case>.ref beside the test binary, for `diff -u`. After a
// deliberate change, SUNBEAM_UPDATE_GOLDEN=1 rewrites the .ref files; read
// the diff before committing them.
//
// Case file keys: template, locale, channel ("sms" | "email"), vars;
// optional: marketing (false), fallback_locale ("zh-CN"), templates (a
// directory relative to the source tree, default templates/messages),
// signature_position ("prefix" | "suffix").
#include "templates/template_set.h"

#include "tests/support/source_dir.h"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

using namespace sunbeam;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const fs::path golden_dir = test::source_dir() / "tests" / "unit" / "templates" / "golden";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::vector<fs::path> golden_cases() {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(golden_dir))
    if (entry.path().extension() == ".json") cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  return cases;
}

// Templates directories are loaded once per run.
std::shared_ptr<const TemplateSet> templates_in(const std::string& relative) {
  static std::map<std::string, std::shared_ptr<const TemplateSet>> loaded;
  auto& set = loaded[relative];
  if (!set) {
    auto load = TemplateSet::load(test::source_dir() / relative, Config{});
    for (const auto& p : load.problems) FAIL_CHECK(p.to_string());
    set = load.set;
  }
  return set;
}

std::string string_or(const json::object& o, std::string_view key, std::string fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : fallback;
}

// What a reader checks: SMS counting on top, then the text; e-mail parts in
// the template file's own layout.
std::string describe(const RenderedMessage& m, Channel channel) {
  std::ostringstream out;
  if (channel == Channel::sms) {
    out << "encoding: " << to_string(m.sms.encoding) << "\nunits: " << m.sms.units << "\nparts: " << m.sms.parts
        << "\n--- text ---\n" << m.text << "\n";
  } else {
    out << "--- subject ---\n" << m.subject << "\n--- text ---\n" << m.text << "\n--- html ---\n" << m.html << "\n";
  }
  return out.str();
}

std::string render_case(const fs::path& case_file) {
  const auto spec = json::parse(read_text(case_file)).as_object();
  const auto channel = parse_channel(string_or(spec, "channel", ""));
  REQUIRE_MESSAGE(channel, "channel must be sms or email");
  const auto set = templates_in(string_or(spec, "templates", "templates/messages"));
  REQUIRE(set);
  SmsConfig sms;
  sms.signature = "【阳光证券】";
  sms.opt_out_suffix = "回T退订";
  if (string_or(spec, "signature_position", "prefix") == "suffix") sms.signature_position = SignaturePosition::suffix;
  const auto template_name = string_or(spec, "template", "");
  const auto locale = string_or(spec, "locale", "");
  const auto* marketing = spec.if_contains("marketing");
  const RenderRequest request{template_name, locale, *channel, spec.at("vars").as_object(),
                              marketing && marketing->is_bool() && marketing->get_bool()};
  auto rendered = set->render(request, sms, string_or(spec, "fallback_locale", "zh-CN"));
  if (!rendered) return "error: " + rendered.error().code + ": " + rendered.error().message + "\n";
  return describe(*rendered, *channel);
}

// The first line where the texts differ, both versions shown.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    const bool has_e = bool(std::getline(e, el)), has_a = bool(std::getline(a, al));
    if (!has_e && !has_a) return "the texts differ only in line ends";
    if (!has_e || !has_a || el != al)
      return "first difference at line " + std::to_string(line) + ":\n  expected: " + (has_e ? el : "<end>") +
             "\n  actual:   " + (has_a ? al : "<end>");
  }
}

bool updating() {
  const char* v = std::getenv("SUNBEAM_UPDATE_GOLDEN");
  return v && std::string_view(v) == "1";
}

}  // namespace

TEST_CASE("every golden case renders as its .ref says") {
  const auto cases = golden_cases();
  REQUIRE_FALSE(cases.empty());
  for (const auto& case_file : cases) {
    const auto name = case_file.stem().string();
    INFO("golden case ", name);
    const auto ref = fs::path(case_file).replace_extension(".ref");
    const auto actual = render_case(case_file);
    if (updating()) {
      write_text(ref, actual);
      continue;
    }
    REQUIRE_MESSAGE(fs::exists(ref), "no " << ref.string() << " yet: run with SUNBEAM_UPDATE_GOLDEN=1 and read it");
    const auto expected = read_text(ref);
    if (expected == actual) continue;
    const auto actual_file = fs::current_path() / "golden-actual" / (name + ".ref");
    write_text(actual_file, actual);
    FAIL_CHECK(name << ": " << first_difference(expected, actual) << "\n  diff -u " << ref.string() << " "
                    << actual_file.string() << "\n  (SUNBEAM_UPDATE_GOLDEN=1 rewrites the .ref after a deliberate change)");
  }
}

TEST_CASE("every shipped template has a golden case") {
  const auto messages = test::source_dir() / "templates" / "messages";
  int templates = 0;
  for (const auto& locale : fs::directory_iterator(messages))
    for (const auto& file : fs::directory_iterator(locale.path())) {
      if (file.path().extension() != ".mustache") continue;
      ++templates;
      const auto stem = file.path().stem().string();  // rating_change.sms
      const auto case_file = golden_dir / (stem + "." + locale.path().filename().string() + ".json");
      CHECK_MESSAGE(fs::exists(case_file), "no golden case " << case_file.string() << " for " << file.path().string());
    }
  CHECK(templates == 44);  // ten event types and the digest, SMS and e-mail, zh-CN and en
}
