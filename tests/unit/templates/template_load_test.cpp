// Loading a templates directory: every problem reported as file:line: what,
// and every template a configured channel needs accounted for.
#include "templates/template_set.h"

#include "tests/support/doctest_result.h"
#include "tests/unit/templates/template_dir.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace sunbeam;
using test::TemplateDir;

namespace {

const Config no_types{};

// The only problem of a load, which must have exactly one.
Problem only_problem(const TemplateLoad& load) {
  REQUIRE(load.problems.size() == 1);
  return load.problems.front();
}

const char* const good_email =
    "{{! a comment line }}\n"
    "--- subject ---\n"
    "Notice: {{title}}\n"
    "--- text ---\n"
    "Dear {{subscriber.name}},\n"
    "{{body}}\n"
    "--- html ---\n"
    "<p>Dear {{subscriber.name}},</p>\n"
    "<p>{{body}}</p>\n";

}  // namespace

TEST_CASE("a well-formed directory loads without problems") {
  TemplateDir dir;
  dir.write("en/notice.sms.mustache", "Dear {{subscriber.name}}, {{title}}: {{body}}\n");
  dir.write("en/notice.email.mustache", good_email);
  dir.write("en/README.txt", "not a template: ignored");
  const auto load = TemplateSet::load(dir.path(), test::config_with_type("notice", {Channel::sms, Channel::email}), {"en"});
  CHECK(load.problems.empty());
  REQUIRE(load.set);
  CHECK(load.set->has("en", "notice", Channel::sms));
  CHECK(load.set->has("en", "notice", Channel::email));
  CHECK_FALSE(load.set->has("zh-CN", "notice", Channel::sms));
}

TEST_CASE("an unclosed section is reported at its line, and nothing is half-loaded") {
  TemplateDir dir;
  const auto file = dir.write("zh-CN/notice.sms.mustache", "{{subscriber.name}}您好，\n{{title}}：\n{{#items}}{{.}}、\n{{body}}\n");
  dir.write("zh-CN/risk_alert.sms.mustache", "{{name}}\n");
  const auto load = TemplateSet::load(dir.path(), no_types, {"zh-CN"});
  const auto p = only_problem(load);
  CHECK(p.file == file.string());
  CHECK(p.line == 3);
  CHECK(p.what == "section {{#items}} is never closed: add {{/items}}");
  CHECK(p.to_string() == file.string() + ":3: section {{#items}} is never closed: add {{/items}}");
  CHECK_FALSE(load.set);
}

TEST_CASE("other syntax errors name their line") {
  TemplateDir dir;
  const auto unopened = dir.write("en/a.sms.mustache", "one\ntwo {{/items}}\n");
  const auto unclosed_tag = dir.write("en/b.sms.mustache", "one\ntwo\nthree {{name\n");
  const auto load = TemplateSet::load(dir.path(), no_types, {"en"});
  REQUIRE(load.problems.size() == 2);
  CHECK(load.problems[0].to_string() == unopened.string() + ":2: {{/items}} closes a section that is not open");
  CHECK(load.problems[1].to_string() == unclosed_tag.string() + ":3: a tag opened with {{ is never closed with }}");
}

TEST_CASE("an error in an e-mail part is reported at the file's line, not the part's") {
  TemplateDir dir;
  const auto file = dir.write("en/notice.email.mustache",
                              "{{! comment }}\n"           // 1
                              "--- subject ---\n"          // 2
                              "Notice: {{title}}\n"        // 3
                              "--- text ---\n"             // 4
                              "Dear {{subscriber.name}}\n"  // 5
                              "--- html ---\n"             // 6
                              "<p>Dear</p>\n"              // 7
                              "<ul>{{#rows}}<li>{{.}}\n"   // 8
                              "</ul>\n");                  // 9
  const auto p = only_problem(TemplateSet::load(dir.path(), no_types, {"en"}));
  CHECK(p.file == file.string());
  CHECK(p.line == 8);
  CHECK(p.what == "section {{#rows}} is never closed: add {{/rows}}");
}

TEST_CASE("an e-mail template must hold its three parts, each once, the subject on one line") {
  TemplateDir dir;
  const auto check_problem = [&](std::string_view text, int line, std::string_view what) {
    const auto file = dir.write("en/notice.email.mustache", text);
    const auto p = only_problem(TemplateSet::load(dir.path(), no_types, {"en"}));
    CHECK(p.file == file.string());
    CHECK(p.line == line);
    CHECK(p.what == what);
  };
  check_problem("--- subject ---\nS\n--- text ---\nT\n", 0,
                "the html part is missing (a line \"--- html ---\" and the text below it)");
  check_problem("Dear {{name}}\n--- subject ---\nS\n--- text ---\nT\n--- html ---\nH\n", 1,
                "text before the first part: start the parts with --- subject ---");
  check_problem("--- subject ---\nS\n--- body ---\nT\n--- html ---\nH\n", 3,
                "unknown part \"--- body ---\" (the parts are subject, text, html)");
  check_problem("--- subject ---\nS\n--- text ---\nT\n--- text ---\nT\n--- html ---\nH\n", 5, "the text part appears twice");
  check_problem("--- subject ---\nS\nDear {{name}},\n--- html ---\nH\n--- text ---\nT\n", 2,
                "the subject is one line (is a --- text --- marker missing?)");
}

TEST_CASE("partials and delimiter changes are refused: data must never become template text") {
  TemplateDir dir;
  const auto partial = dir.write("en/a.sms.mustache", "Dear {{subscriber.name}},\n{{> summary}}\n");
  const auto delimiters = dir.write("en/b.sms.mustache", "{{=<% %>=}}\n<% name %>\n");
  const auto commented = dir.write("en/c.sms.mustache", "{{! {{> not a partial }} {{name}}\n");
  const auto load = TemplateSet::load(dir.path(), no_types, {"en"});
  REQUIRE(load.problems.size() == 2);
  CHECK(load.problems[0].to_string() ==
        partial.string() + ":2: partials ({{> name}}) are not supported: write the text into the template");
  CHECK(load.problems[1].to_string() == delimiters.string() + ":1: changing the delimiters ({{=...=}}) is not supported");
}

TEST_CASE("each (event type, channel a tier receives, locale) without a template is reported") {
  TemplateDir dir;
  dir.write("zh-CN/rating_change.sms.mustache", "{{name}}\n");
  dir.write("zh-CN/rating_change.email.mustache", good_email);
  dir.write("en/rating_change.sms.mustache", "{{name}}\n");
  Config config = test::config_with_type("rating_change", {Channel::sms, Channel::email});
  config.event_types[0].channels["research"] = {Channel::email};
  config.event_types[0].channels["basic"] = {};
  const auto load = TemplateSet::load(dir.path(), config);
  const auto p = only_problem(load);
  CHECK(p.file == (dir.path() / "en" / "rating_change.email.mustache").string());
  CHECK(p.line == 0);
  CHECK(p.what == "missing: event type rating_change goes by email to advisor, research, and en has no template for it");
  // Missing templates alone leave a usable set: rendering falls back.
  CHECK(load.set);
}

TEST_CASE("a digest-held type needs the digest template on each channel it goes by, in each locale") {
  TemplateDir dir;
  dir.write("en/stock_pick_followup.sms.mustache", "{{name}}\n");
  Config config = test::config_with_type("stock_pick_followup", {Channel::sms});
  auto load = TemplateSet::load(dir.path(), config, {"en"});
  CHECK(load.problems.empty());  // not held for the digest: its own template is enough

  config.event_types[0].digest = true;
  const auto p = only_problem(TemplateSet::load(dir.path(), config, {"en"}));
  CHECK(p.file == (dir.path() / "en" / "digest.sms.mustache").string());
  CHECK(p.what == "missing: stock_pick_followup is held for the digest, which goes by sms, and en has no digest template for it");

  dir.write("en/digest.sms.mustache", "{{count}} updates\n");
  load = TemplateSet::load(dir.path(), config, {"en"});
  CHECK(load.problems.empty());  // e-mail goes to no tier: no digest e-mail template needed
  CHECK(load.set->has("en", digest_template, Channel::sms));
}

TEST_CASE("a channel no tier receives needs no template; the template name comes from the config") {
  TemplateDir dir;
  dir.write("zh-CN/ipo.sms.mustache", "{{name}}\n");
  Config config = test::config_with_type("ipo_subscription", {Channel::sms}, "basic");
  config.event_types[0].template_name = "ipo";
  const auto load = TemplateSet::load(dir.path(), config, {"zh-CN"});
  CHECK(load.problems.empty());
  CHECK(load.set);
}

TEST_CASE("a file not named <type>.<channel>.mustache is reported") {
  TemplateDir dir;
  const auto no_channel = dir.write("en/notice.mustache", "x");
  const auto fax = dir.write("en/notice.fax.mustache", "x");
  const auto load = TemplateSet::load(dir.path(), no_types, {"en"});
  REQUIRE(load.problems.size() == 2);
  const std::string what = "not a template name: name it <event type>.sms.mustache or <event type>.email.mustache";
  CHECK(load.problems[0].to_string() == fax.string() + ": " + what);
  CHECK(load.problems[1].to_string() == no_channel.string() + ": " + what);
  CHECK_FALSE(load.set);
}

TEST_CASE("a directory that does not exist is one problem") {
  const auto load = TemplateSet::load("/nonexistent/sunbeam/templates", no_types);
  const auto p = only_problem(load);
  CHECK(p.file == "/nonexistent/sunbeam/templates");
  CHECK(p.what == "the templates directory does not exist (config key `templates`)");
  CHECK_FALSE(load.set);
}

TEST_CASE("a byte-order mark is not part of the template") {
  TemplateDir dir;
  dir.write("en/notice.sms.mustache", "\xEF\xBB\xBFHello {{subscriber.name}}");
  const auto load = TemplateSet::load(dir.path(), no_types, {"en"});
  REQUIRE(load.set);
  boost::json::object vars{{"subscriber", {{"name", "Li Na"}}}};
  auto m = load.set->render({"notice", "en", Channel::sms, vars}, SmsConfig{}, "en");
  REQUIRE(m);
  CHECK(m->text == "Hello Li Na");
  CHECK(m->sms.encoding == SmsEncoding::gsm7);
}
