// A throw-away templates directory for one test: files written from the
// test's own text, removed when the test ends.
#pragma once

#include "config/config.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace sunbeam::test {

class TemplateDir {
 public:
  TemplateDir()
      : root_(std::filesystem::temp_directory_path() / ("sunbeam-templates-" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(root_);
  }
  ~TemplateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  TemplateDir(const TemplateDir&) = delete;
  TemplateDir& operator=(const TemplateDir&) = delete;

  // `relative` like "zh-CN/notice.sms.mustache"; returns the full path.
  std::filesystem::path write(std::string_view relative, std::string_view text) const {
    const auto path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  const std::filesystem::path& path() const { return root_; }

 private:
  std::filesystem::path root_;
};

// A config with one event type sent to `tier` on `channels`.
inline Config config_with_type(const std::string& type, std::vector<Channel> channels, const std::string& tier = "advisor") {
  Config c;
  c.tiers = {"advisor", "research", "basic"};
  EventTypeConfig t;
  t.name = type;
  t.template_name = type;
  t.channels[tier] = std::move(channels);
  c.event_types.push_back(std::move(t));
  return c;
}

}  // namespace sunbeam::test
