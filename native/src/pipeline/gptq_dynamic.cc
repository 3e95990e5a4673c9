#include "pipeline/gptq_dynamic.h"

#include <regex>

namespace quantstudio::pipeline {

const GptqModuleRule* DynamicRuleFor(const PipelineOptions& o, const std::string& module) {
  for (const GptqModuleRule& rule : o.dynamic) {
    std::regex re;
    try {
      const auto flags = std::regex::ECMAScript | (rule.ignoreCase ? std::regex::icase : std::regex::flag_type{});
      re = std::regex(rule.pattern, flags);
    } catch (const std::regex_error& e) {
      throw quant::QuantError("quantization_config.dynamic key " + rule.key +
                              ": the engine's regex does not compile it (" + e.what() + ")");
    }
    if (std::regex_search(module, re, std::regex_constants::match_continuous)) return &rule;
  }
  return nullptr;
}

quant::GptqOptions GptqOptionsFor(const PipelineOptions& o, const std::string& module) {
  quant::GptqOptions g = o.gptq;
  const GptqModuleRule* rule = o.dynamic.empty() ? nullptr : DynamicRuleFor(o, module);
  if (!rule || rule->skip) return g;
  if (rule->bits > 0) g.bits = rule->bits;
  if (rule->groupSize != 0) g.groupSize = rule->groupSize;
  if (rule->descAct >= 0) g.descAct = rule->descAct == 1;
  if (rule->sym >= 0) g.sym = rule->sym == 1;
  return g;
}

}  // namespace quantstudio::pipeline
