// What a template is rendered with: a delivery's own variables (`event`,
// `subscriber`) laid over the data its event carried. Every delivery of a
// fan-out carries the same data, so TemplateSet converts it to kainjow's
// values once and renders each delivery with it under that delivery's own
// few; converting and copying the whole data per delivery was ~8% of the
// engine's CPU in render-only (bench/NOTES.md).
//
// A top-level name the own variables have hides the shared value of that
// name whole (`event.symbol` is never looked up in the data's own `event`),
// exactly as if they were written over a copy of the data (template_vars).
// Inside a section, names resolve in the section's item first, as kainjow's
// own context does.
//
// Internal to the templates module.
#pragma once

#include <kainjow/mustache.hpp>

#include <string>
#include <vector>

namespace sunbeam {

struct TemplateValues {
  const kainjow::mustache::data& shared;  // the event's data
  const kainjow::mustache::data& own;     // the delivery's
};

// kainjow's context interface over TemplateValues (its own `context` would
// look a dotted name up in the data's object when the own one lacks it).
class LayeredContext final : public kainjow::mustache::basic_context<std::string> {
 public:
  explicit LayeredContext(const TemplateValues& values) : values_(values) {}

  void push(const kainjow::mustache::data* item) override { sections_.push_back(item); }
  void pop() override { sections_.pop_back(); }
  const kainjow::mustache::data* get(const std::string& name) const override;
  const kainjow::mustache::data* get_partial(const std::string& name) const override;

 private:
  const kainjow::mustache::data* lookup(const std::string& name) const;  // a name without dots
  const kainjow::mustache::data* root(const std::vector<std::string>& path) const;
  TemplateValues values_;
  std::vector<const kainjow::mustache::data*> sections_;  // innermost last
};

}  // namespace sunbeam
