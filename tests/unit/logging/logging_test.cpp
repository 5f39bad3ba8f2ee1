// Log formats and masking: JSON lines that parse, text exactly as spdlog's
// default, personal data masked unless switched off; configure_logging on the
// real stderr.
#include "engine/logging/log_formatters.h"
#include "engine/logging/logging.h"

#include "engine/core/time_format.h"
#include "tests/support/doctest_result.h"

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace sunbeam;
using namespace sunbeam::logging;

namespace {

constexpr std::string_view personal = "SMTP 550 for 13812345678 / +8613912345678: <zhang.wei@example.com> rejected";
constexpr std::string_view masked = "SMTP 550 for 138****5678 / +86139****5678: <z***@example.com> rejected";

// 2026-11-25T00:45:00.123Z
spdlog::log_clock::time_point fixed_time() {
  return spdlog::log_clock::time_point(std::chrono::milliseconds(*parse_rfc3339_ms("2026-11-25T00:45:00.123Z")));
}

spdlog::details::log_msg message(std::string_view text, spdlog::level::level_enum level = spdlog::level::info) {
  return spdlog::details::log_msg(fixed_time(), spdlog::source_loc{}, "sunbeam", level,
                                  spdlog::string_view_t(text.data(), text.size()));
}

std::string format(spdlog::formatter& f, const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  return std::string(buf.data(), buf.size());
}

struct InShanghai {
  InShanghai() {
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
  }
};

}  // namespace

TEST_CASE("a JSON line parses, with its fields in order, local time with milliseconds and offset") {
  InShanghai tz;
  auto f = make_log_formatter(LogFormat::json, false);
  const std::string line = format(*f, message("sent \"quoted\" \\ and\nnewline\t中文", spdlog::level::warn));
  REQUIRE(line.ends_with("\n"));
  CHECK(line.find('\n') == line.size() - 1);  // one line, the newline in the message escaped
  CHECK(line ==
        "{\"time\":\"2026-11-25T08:45:00.123+08:00\",\"level\":\"warn\",\"logger\":\"sunbeam\","
        "\"msg\":\"sent \\\"quoted\\\" \\\\ and\\nnewline\\t中文\"}\n");
  const auto parsed = boost::json::parse(line).as_object();
  CHECK(parsed.at("msg").as_string() == "sent \"quoted\" \\ and\nnewline\t中文");
  CHECK(parse_rfc3339_ms(parsed.at("time").as_string().c_str()) == parse_rfc3339_ms("2026-11-25T00:45:00.123Z"));
}

TEST_CASE("JSON levels use the --log-level names") {
  auto f = make_log_formatter(LogFormat::json, true);
  const std::pair<spdlog::level::level_enum, const char*> levels[] = {
      {spdlog::level::trace, "trace"}, {spdlog::level::debug, "debug"}, {spdlog::level::info, "info"},
      {spdlog::level::warn, "warn"},   {spdlog::level::err, "error"},   {spdlog::level::critical, "critical"}};
  for (const auto& [level, name] : levels) {
    const auto parsed = boost::json::parse(format(*f, message("x", level))).as_object();
    CHECK(parsed.at("level").as_string() == name);
  }
}

TEST_CASE("JSON messages are masked unless masking is off") {
  auto on = make_log_formatter(LogFormat::json, true);
  auto off = make_log_formatter(LogFormat::json, false);
  CHECK(boost::json::parse(format(*on, message(personal))).at("msg").as_string() == masked);
  CHECK(boost::json::parse(format(*off, message(personal))).at("msg").as_string() == personal);
}

TEST_CASE("text lines are spdlog's default format; masking changes only the message") {
  spdlog::pattern_formatter spdlog_default;
  auto plain = make_log_formatter(LogFormat::text, false);
  auto masking = make_log_formatter(LogFormat::text, true);

  const auto original = message(personal);
  CHECK(format(*plain, original) == format(spdlog_default, original));

  const auto reference = message(masked);
  const std::string expected = format(spdlog_default, reference);
  const auto msg = message(personal);
  CHECK(format(*masking, msg) == expected);
  CHECK(expected.find("[sunbeam] [info] " + std::string(masked)) != std::string::npos);
  // The colour sink still finds the level where the default formatter put it.
  CHECK(msg.color_range_end > msg.color_range_start);
  CHECK(msg.color_range_start == reference.color_range_start);
  CHECK(msg.color_range_end == reference.color_range_end);
  // A clone (spdlog makes one per sink) masks too.
  auto clone = masking->clone();
  CHECK(format(*clone, message(personal)) == expected);
}

TEST_CASE("configure_logging installs the logger on stderr: JSON, masked; then text, unmasked") {
  char path[] = "/tmp/sunbeam-logging-test-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  REQUIRE(dup2(fd, STDERR_FILENO) >= 0);

  const auto json = configure_logging({"debug", LogFormat::json, true});
  spdlog::debug("dispatch: {} answered for {}", "smtp", "zhang.wei@example.com");
  spdlog::trace("below the level");
  spdlog::default_logger()->flush();
  const auto text = configure_logging({"info", LogFormat::text, false});
  spdlog::info("to {}", "13812345678");
  spdlog::default_logger()->flush();

  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  std::remove(path);

  REQUIRE(json);
  REQUIRE(text);
  CHECK(spdlog::default_logger()->name() == "sunbeam");
  std::string first, second, extra;
  std::getline(content, first);
  std::getline(content, second);
  CHECK_FALSE(std::getline(content, extra));
  const auto parsed = boost::json::parse(first).as_object();
  CHECK(parsed.at("level").as_string() == "debug");
  CHECK(parsed.at("logger").as_string() == "sunbeam");
  CHECK(parsed.at("msg").as_string() == "dispatch: smtp answered for z***@example.com");
  CHECK(second.ends_with("[sunbeam] [info] to 13812345678"));
}

TEST_CASE("an unknown level is an error that lists the levels, and changes nothing") {
  const auto before = spdlog::default_logger();
  const auto r = configure_logging({"verbose", LogFormat::text, true});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "invalid_log_level");
  CHECK(r.error().message.find("trace, debug, info, warn, error, critical, off") != std::string::npos);
  CHECK(spdlog::default_logger() == before);
  CHECK(configure_logging({"off", LogFormat::text, true}));
  CHECK(configure_logging({"warning", LogFormat::text, true}));  // spdlog's own spelling is accepted too
}
