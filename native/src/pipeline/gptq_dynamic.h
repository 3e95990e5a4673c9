// GPTQModel 7.7's `dynamic` in the pipeline (gptqmodel/quantization/config.py: the first key, "-:" keys first, whose
// regex matches the full module name from its start decides): which rule a module takes and the GPTQ settings that
// gives it.
#pragma once

#include <string>

#include "pipeline/pipeline.h"
#include "quant/gptq.h"

namespace quantstudio::pipeline {

/** The first rule whose pattern matches `module` from its start; null when none does. QuantError naming the key when
 *  a pattern does not compile. */
const GptqModuleRule* DynamicRuleFor(const PipelineOptions& o, const std::string& module);

/** The config's GPTQ settings with the module's rule applied (bits, group_size, desc_act, sym). */
quant::GptqOptions GptqOptionsFor(const PipelineOptions& o, const std::string& module);

}  // namespace quantstudio::pipeline
