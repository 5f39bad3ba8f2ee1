// Rendering: locale fallback, escaping per part, one-line subjects, SMS
// composition, errors that name the template, renders from many threads.
#include "templates/template_set.h"

#include "tests/support/doctest_result.h"
#include "tests/support/source_dir.h"
#include "tests/unit/templates/template_dir.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace sunbeam;
using test::TemplateDir;

namespace {

const Config no_types{};

SmsConfig sunshine() {
  SmsConfig sms;
  sms.signature = "【阳光证券】";
  sms.opt_out_suffix = "回T退订";
  return sms;
}

std::shared_ptr<const TemplateSet> load_set(const TemplateDir& dir) {
  auto load = TemplateSet::load(dir.path(), no_types, {});
  for (const auto& p : load.problems) FAIL(p.to_string());
  REQUIRE(load.set);
  return load.set;
}

std::shared_ptr<const TemplateSet> shipped() {
  static const auto set = [] {
    auto load = TemplateSet::load(test::source_dir() / "templates" / "messages", no_types);
    for (const auto& p : load.problems) FAIL(p.to_string());
    return load.set;
  }();
  REQUIRE(set);
  return set;
}

boost::json::object notice_vars(std::string title) {
  return {{"title", std::move(title)},
          {"body", "2027年1月1日休市。"},
          {"event", {{"id", "e1"}, {"type", "notice"}, {"symbol", ""}, {"occurred_at", "2026-11-25T16:00:00+08:00"}}},
          {"subscriber", {{"name", "李娜"}, {"account", "A0003"}, {"tier", "advisor"}}}};
}

}  // namespace

TEST_CASE("a locale without the template falls back to its language, then to the fallback locale") {
  TemplateDir dir;
  dir.write("zh-CN/notice.sms.mustache", "通知：{{title}}");
  dir.write("en/notice.sms.mustache", "Notice: {{title}}");
  const auto set = load_set(dir);
  const boost::json::object vars{{"title", "休市"}};
  const auto text_for = [&](std::string_view locale) {
    auto m = set->render({"notice", locale, Channel::sms, vars}, SmsConfig{}, "zh-CN");
    REQUIRE(m);
    return m->text;
  };
  CHECK(text_for("en") == "Notice: 休市");
  CHECK(text_for("en-GB") == "Notice: 休市");
  CHECK(text_for("fr") == "通知：休市");
  CHECK(text_for("") == "通知：休市");
}

TEST_CASE("no template in any locale: the error names the files looked for") {
  TemplateDir dir;
  dir.write("zh-CN/notice.sms.mustache", "通知：{{title}}");
  const auto set = load_set(dir);
  const boost::json::object vars{{"title", "休市"}};
  auto m = set->render({"notice", "en-GB", Channel::email, vars}, SmsConfig{}, "zh-CN");
  REQUIRE_FALSE(m);
  CHECK(m.error().code == "template_missing");
  CHECK(m.error().message == "no email template notice for locale en-GB (looked for " +
                                 (dir.path() / "en-GB" / "notice.email.mustache").string() + ", " +
                                 (dir.path() / "en" / "notice.email.mustache").string() + ", " +
                                 (dir.path() / "zh-CN" / "notice.email.mustache").string() + ")");
}

TEST_CASE("only the HTML part escapes HTML; SMS, subject and text part are plain text") {
  TemplateDir dir;
  dir.write("en/notice.sms.mustache", "Notice: {{title}}");
  dir.write("en/notice.email.mustache",
            "--- subject ---\n{{title}}\n--- text ---\n{{title}}\n--- html ---\n<p>{{title}}</p>\n");
  const auto set = load_set(dir);
  const boost::json::object vars{{"title", R"(<b>A&B</b> "q" 'a')"}};
  auto sms = set->render({"notice", "en", Channel::sms, vars}, SmsConfig{}, "en");
  auto email = set->render({"notice", "en", Channel::email, vars}, SmsConfig{}, "en");
  REQUIRE(sms);
  REQUIRE(email);
  CHECK(sms->text == R"(Notice: <b>A&B</b> "q" 'a')");
  CHECK(email->subject == R"(<b>A&B</b> "q" 'a')");
  CHECK(email->text == R"(<b>A&B</b> "q" 'a')");
  CHECK(email->html == "<p>&lt;b&gt;A&amp;B&lt;/b&gt; &quot;q&quot; &apos;a&apos;</p>");
}

TEST_CASE("data cannot add a header line through the subject") {
  auto m = shipped()->render({"notice", "en", Channel::email, notice_vars("Holiday\r\nBcc: attacker@example.com\n\nhi")},
                             sunshine(), "zh-CN");
  REQUIRE(m);
  CHECK(m->subject.find('\r') == std::string::npos);
  CHECK(m->subject.find('\n') == std::string::npos);
  CHECK(m->subject.find("Holiday Bcc: attacker@example.com hi") != std::string::npos);
}

TEST_CASE("an SMS written over several lines is sent as one paragraph, signed and counted") {
  TemplateDir dir;
  dir.write("zh-CN/ipo_subscription.sms.mustache",
            "{{subscriber.name}}您好，\n"
            "  新股{{name}}\n"
            "  {{subscribe_date}}申购。\n");
  const auto set = load_set(dir);
  const boost::json::object vars{{"name", "华芯科技"}, {"subscribe_date", "2026-11-27"}, {"subscriber", {{"name", "李娜"}}}};
  auto m = set->render({"ipo_subscription", "zh-CN", Channel::sms, vars}, sunshine(), "zh-CN");
  REQUIRE(m);
  CHECK(m->text == "【阳光证券】李娜您好，新股华芯科技 2026-11-27申购。");
  CHECK(m->sms == SmsParts{SmsEncoding::ucs2, 31, 1});
  CHECK(m->subject.empty());
  CHECK(m->html.empty());
}

TEST_CASE("a template saved with CRLF line ends renders as one saved with LF") {
  TemplateDir dir;
  dir.write("en/notice.email.mustache",
            "{{! saved on Windows }}\r\n--- subject ---\r\nNotice: {{title}}\r\n--- text ---\r\nDear {{name}},\r\n\r\n{{title}}\r\n"
            "--- html ---\r\n<p>{{title}}</p>\r\n");
  dir.write("en/notice.sms.mustache", "Dear {{name}},\r\n{{title}}\r\n");
  const auto set = load_set(dir);
  const boost::json::object vars{{"name", "Li Na"}, {"title", "Holiday"}};
  auto email = set->render({"notice", "en", Channel::email, vars}, SmsConfig{}, "en");
  auto sms = set->render({"notice", "en", Channel::sms, vars}, SmsConfig{}, "en");
  REQUIRE(email);
  REQUIRE(sms);
  CHECK(email->subject == "Notice: Holiday");
  CHECK(email->text == "Dear Li Na,\n\nHoliday");
  CHECK(email->html == "<p>Holiday</p>");
  CHECK(sms->text == "Dear Li Na, Holiday");
}

TEST_CASE("marketing types get the opt-out suffix, others do not") {
  TemplateDir dir;
  dir.write("zh-CN/stock_pick.sms.mustache", "关注{{name}}。");
  const auto set = load_set(dir);
  const boost::json::object vars{{"name", "宁德时代"}};
  auto marketing = set->render({"stock_pick", "zh-CN", Channel::sms, vars, true}, sunshine(), "zh-CN");
  auto plain = set->render({"stock_pick", "zh-CN", Channel::sms, vars, false}, sunshine(), "zh-CN");
  REQUIRE(marketing);
  REQUIRE(plain);
  CHECK(marketing->text == "【阳光证券】关注宁德时代。回T退订");
  CHECK(plain->text == "【阳光证券】关注宁德时代。");
}

TEST_CASE("an SMS or a subject that renders empty is an error naming the file") {
  TemplateDir dir;
  const auto sms_file = dir.write("en/notice.sms.mustache", "{{title}}\n");
  const auto email_file = dir.write("en/notice.email.mustache", "--- subject ---\n{{title}}\n--- text ---\nx\n--- html ---\nx\n");
  const auto set = load_set(dir);
  const boost::json::object vars{{"body", "no title here"}};
  auto sms = set->render({"notice", "en", Channel::sms, vars}, sunshine(), "en");
  auto email = set->render({"notice", "en", Channel::email, vars}, sunshine(), "en");
  REQUIRE_FALSE(sms);
  REQUIRE_FALSE(email);
  CHECK(sms.error().code == "template_empty");
  CHECK(sms.error().message.starts_with(sms_file.string() + ": the SMS text renders empty"));
  CHECK(email.error().code == "template_empty");
  CHECK(email.error().message.starts_with(email_file.string() + ": the subject renders empty"));
}

TEST_CASE("many threads render the same template at once and all get the same text") {
  const auto set = shipped();
  const auto vars = notice_vars("元旦休市安排");
  auto expected = set->render({"notice", "zh-CN", Channel::email, vars}, sunshine(), "zh-CN");
  REQUIRE(expected);
  constexpr int threads = 8, renders = 300;
  std::vector<int> mismatches(threads, 0);
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int i = 0; i < renders; ++i) {
          auto m = set->render({"notice", "zh-CN", Channel::email, vars}, sunshine(), "zh-CN");
          if (!m || m->subject != expected->subject || m->text != expected->text || m->html != expected->html)
            ++mismatches[std::size_t(t)];
        }
      });
  }
  for (int t = 0; t < threads; ++t) CHECK(mismatches[std::size_t(t)] == 0);
}

TEST_CASE("an SMS over sms.max_parts uses the template's short variant, which is counted the same way") {
  TemplateDir dir;
  dir.write("zh-CN/notice.sms.mustache",
            "{{subscriber.name}}您好，{{title}}：{{body}}\n--- short ---\n{{title}}，详见APP。\n");
  const auto set = load_set(dir);
  auto sms = sunshine();
  sms.max_parts = 1;
  const auto vars = notice_vars("休市安排");
  auto brief = set->render({"notice", "zh-CN", Channel::sms, vars, false}, sms, "zh-CN");
  REQUIRE(brief);
  CHECK_FALSE(brief->short_variant);  // fits in one part: the full text
  CHECK(brief->text == "【阳光证券】李娜您好，休市安排：2027年1月1日休市。");

  auto long_vars = notice_vars("休市安排");
  long_vars["body"] = std::string(40, 'x') + "根据交易所通知，2027年1月1日（星期五）休市，1月4日（星期一）起照常开市。请提前做好资金安排。";
  auto shortened = set->render({"notice", "zh-CN", Channel::sms, long_vars, true}, sms, "zh-CN");
  REQUIRE(shortened);
  CHECK(shortened->short_variant);
  CHECK(shortened->text == "【阳光证券】休市安排，详见APP。回T退订");  // signature and opt-out still apply
  CHECK(shortened->sms.parts == 1);

  sms.max_parts = 5;  // room enough: the full text again
  auto full = set->render({"notice", "zh-CN", Channel::sms, long_vars, false}, sms, "zh-CN");
  REQUIRE(full);
  CHECK_FALSE(full->short_variant);
  CHECK(full->sms.parts > 1);
}

TEST_CASE("an error in the short variant names its own line") {
  TemplateDir dir;
  dir.write("zh-CN/notice.sms.mustache", "{{title}}\n--- short ---\n{{#title}}unclosed\n");
  auto load = TemplateSet::load(dir.path(), no_types, {});
  REQUIRE_FALSE(load.problems.empty());
  CHECK(load.problems[0].line == 3);
}

TEST_CASE("an event's data shared by many renders: the delivery's own names hide the data's, and each render sees its own data") {
  TemplateDir dir;
  dir.write("en/pick.sms.mustache",
            "{{subscriber.name}}: {{event.symbol}}{{event.extra}} {{title}}."
            "{{#picks}} {{symbol}} for {{subscriber.account}} at {{price}}{{#note}} ({{note}}){{/note}};{{/picks}}");
  const auto set = load_set(dir);
  const auto render = [&](const boost::json::object& own, const boost::json::object* shared) {
    auto m = set->render({"pick", "en", Channel::sms, own, false, shared}, SmsConfig{}, "en");
    REQUIRE(m);
    return m->text;
  };
  const boost::json::object own{{"event", {{"symbol", "600519"}}}, {"subscriber", {{"name", "Li Na"}, {"account", "A0003"}}}};
  // The data carries an `event` of its own: the delivery's hides it whole
  // ({{event.extra}} prints nothing), as template_vars' merge does.
  const boost::json::object data{{"title", "Picks"},
                                 {"event", {{"symbol", "000001"}, {"extra", "!"}}},
                                 {"picks", boost::json::array{{{"symbol", "600519"}, {"price", "1,500"}, {"note", "hold"}},
                                                              {{"symbol", "000858"}, {"price", 128.5}}}}};
  boost::json::object merged = data;
  for (const auto& [name, value] : own) merged[name] = value;
  const std::string expected = "Li Na: 600519 Picks. 600519 for A0003 at 1,500 (hold); 000858 for A0003 at 128.5;";
  CHECK(render(merged, nullptr) == expected);
  CHECK(render(own, &data) == expected);
  CHECK(render(own, &data) == expected);  // the second time from the converted data kept

  // Other data, and then the first again: never another event's values.
  boost::json::object other = data;
  other["title"] = "Other picks";
  other["picks"] = boost::json::array{};
  CHECK(render(own, &other) == "Li Na: 600519 Other picks.");
  for (int i = 0; i < 10; ++i) {  // more data than are kept
    boost::json::object each = data;
    each["title"] = "Picks " + std::to_string(i);
    CHECK(render(own, &each).starts_with("Li Na: 600519 Picks " + std::to_string(i) + "."));
  }
  CHECK(render(own, &data) == expected);
}
