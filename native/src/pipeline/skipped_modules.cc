#include "pipeline/skipped_modules.h"

#include "pipeline/gptq_dynamic.h"

namespace quantstudio::pipeline {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

bool MatchesSkipKey(const std::string& name, const std::string& key) {
  if (key.empty()) return false;
  return name == key || EndsWith(name, "." + key) || name.rfind(key + ".", 0) == 0 ||
         name.find("." + key + ".") != std::string::npos;
}

void MarkSkipped(WorkingLayer& layer, const PipelineOptions& o) {
  for (LinearSlot& s : layer.slots) {
    for (const std::string& key : o.skipModules)
      s.skipped = s.skipped || MatchesSkipKey(s.name, key) || MatchesSkipKey(s.SourceName(), key);
    if (!s.skipped && !o.dynamic.empty() && !s.Router()) {
      const GptqModuleRule* rule = DynamicRuleFor(o, s.name);
      s.skipped = rule && rule->skip;
    }
  }
}

}  // namespace quantstudio::pipeline
