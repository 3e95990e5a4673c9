// Which linears a job keeps unquantized: transformers' skip list (modules_to_not_convert, llm_int8_skip_modules)
// and GPTQModel 7.7's "-:" dynamic keys.
#pragma once

#include <string>

#include "pipeline/pipeline.h"
#include "pipeline/working_layer.h"

namespace quantstudio::pipeline {

/** transformers' match of a skip-list key: by name or dotted name part ("lm_head", "mlp.down_proj",
 *  "model.layers.0.self_attn.q_proj" and "model.layers.0" all match q_proj of layer 0). */
bool MatchesSkipKey(const std::string& name, const std::string& key);

/** Marks the layer's slots the skip list or a "-:" dynamic key names (dynamic matched on the written name, as
 *  GPTQModel matches its modules). */
void MarkSkipped(WorkingLayer& layer, const PipelineOptions& o);

}  // namespace quantstudio::pipeline
