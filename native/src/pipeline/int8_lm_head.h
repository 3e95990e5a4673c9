// An int8 lm_head for decode, a run option: the dense lm_head (or the tied embedding it reads) quantized at load with
// LLM.int8's weight rule (each row's absmax, round(w · 127 / absmax): bitsandbytes 0.50), so a decode step reads
// one byte per weight of it instead of two. For small models of large vocabularies the head is much of every step's
// reading (Llama 3.2 1B: 525 MB of fp16 against about 500 MB of 4-bit layers).
#pragma once

#include "runtime/model.h"

namespace quantstudio::pipeline {

/** Replaces a dense lm_head by its int8 copy and releases the mapped pages it read; false when the checkpoint's
 *  lm_head is already quantized (left as it is). */
bool UseInt8LmHead(runtime::Model& model);

}  // namespace quantstudio::pipeline
