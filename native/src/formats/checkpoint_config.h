// The config entries a written checkpoint carries so the ecosystem's loaders recognise it:
// `quantization_config` inside config.json, and AutoGPTQ's quantize_config.json / AutoAWQ's
// quant_config.json beside it. Keys and spellings are the ones those loaders read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/awq.h"
#include "formats/layouts.h"
#include "io/json.h"
#include "quant/bnb4.h"

namespace quantstudio::formats {

struct GptqConfigOptions {
  int bits = 4;
  int64_t groupSize = 128;
  bool descAct = false;
  bool sym = true;
  double dampPercent = 0.1;  // GPTQConfig's default, as quant::GptqOptions
  bool trueSequential = true;
  bool staticGroups = false;
  std::string dynamicJson;  // GPTQModel's per-module overrides as given (a JSON object); empty: none
  bool v2 = false;          // GPTQModel's checkpoint format v2 (zero points stored as they are)
};

struct AwqConfigOptions {
  int bits = 4;
  int64_t groupSize = 128;
  bool zeroPoint = true;
  AwqVersion version = AwqVersion::Gemm;
};

struct BnbConfigOptions {
  bool load4bit = true;  // false = LLM.int8
  quant::Bnb4Type quantType = quant::Bnb4Type::NF4;
  bool doubleQuant = false;
  DType computeDtype = DType::F16;
  double int8Threshold = 6.0;
};

/** quantization_config for config.json (transformers GPTQConfig, checkpoint_format "gptq" = v1). */
json::Value GptqQuantizationConfig(const GptqConfigOptions& o);
/** quantize_config.json (AutoGPTQ / GPTQModel). */
json::Value GptqQuantizeConfigFile(const GptqConfigOptions& o);

json::Value AwqQuantizationConfig(const AwqConfigOptions& o);
/** quant_config.json (AutoAWQ): version spelled "GEMM" / "GEMV". */
json::Value AwqQuantConfigFile(const AwqConfigOptions& o);

json::Value BnbQuantizationConfig(const BnbConfigOptions& o);

/** Every option a layout's config reads; each layout reads its own (the AWQ version and bnb's 4/8-bit
 *  choice come from the layout). */
struct CheckpointConfigOptions {
  GptqConfigOptions gptq;
  AwqConfigOptions awq;
  BnbConfigOptions bnb;
  std::vector<std::string> skipModules;  // listed under the layout's skipKey when not empty
};

struct CheckpointConfig {
  json::Value quantizationConfig;
  std::string sideFileName;  // empty when the layout has no side file
  json::Value sideFile;
};

/** The config entries a checkpoint in layout `id` carries. */
CheckpointConfig CheckpointConfigFor(LayoutId id, const CheckpointConfigOptions& o);

}  // namespace quantstudio::formats
