// The quantize pipeline: a Hugging Face model folder + a method → a quantized checkpoint folder in the
// ecosystem's layout. Decoder layers are processed one at a time (calibration activations flow through
// the already-quantized layers), so memory holds one layer's activations and statistics at once, plus
// the packed tensors produced so far (the quantized model's size) until they are written at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/checkpoint_config.h"
#include "quant/awq.h"
#include "quant/gptq.h"
#include "quant/job.h"
#include "quant/sign_round.h"
#include "runtime/lora.h"
#include "runtime/model_config.h"

namespace quantstudio::runtime {
class Model;
}  // namespace quantstudio::runtime

namespace quantstudio::pipeline {

enum class Method { Rtn, Gptq, Awq, Nf4, Fp4, Int8 };
/** The checkpoint layout written (a row of formats/layouts.h): RTN goes to GPTQ's (sym or asym) or AWQ's
 *  (zero point) layout. */
using Layout = formats::LayoutId;

/** One key of GPTQModel 7.7's `dynamic` (per-module overrides), in its order of precedence ("-:" keys first): a
 *  module whose full name the pattern matches from its start takes this rule's settings, or stays unquantized when
 *  `skip`. The pattern is ECMAScript (the TS side translates Python's spellings); 0 / -1: the config's own value. */
struct GptqModuleRule {
  std::string key;      // as written, for messages
  std::string pattern;  // ECMAScript source
  bool ignoreCase = false;
  bool skip = false;
  int bits = 0;
  int64_t groupSize = 0;
  int descAct = -1;
  int sym = -1;
};

struct PipelineOptions {
  std::string source;  // model folder (config.json + safetensors)
  std::string out;     // output folder, written through a temp folder and renamed
  bool overwrite = false;
  runtime::ModelConfig model;  // parsed on the TS side (native/lib/runtime-config.ts)
  Method method = Method::Gptq;
  Layout layout = Layout::Gptq;
  /** The gptq layout in GPTQModel's checkpoint format v2 (checkpoint_format "gptq_v2": zero points as they are). */
  bool gptqV2 = false;
  quant::GptqOptions gptq;     // gptq; rtn uses bits / groupSize / sym
  quant::AwqOptions awq;       // awq; rtn into an AWQ layout uses bits / groupSize
  bool trueSequential = true;  // gptq
  /** gptq: learned rounding instead of GPTQ's error feedback (iters 0: off). */
  quant::SignRoundOptions signRound;
  formats::BnbConfigOptions bnb;
  int64_t bnbBlocksize = 64;
  /** Module names (or name suffixes / substrings such as "mlp.down_proj") kept unquantized. */
  std::vector<std::string> skipModules;
  /** gptq (and rtn into the GPTQ layout): per-module overrides, and the `dynamic` object written with the config. */
  std::vector<GptqModuleRule> dynamic;
  std::string dynamicJson;
  /** The config.json text written with `quantization_config` added, and its key for the skip list. */
  std::string sourceConfigJson;
  /** Merge then quantize: the adapter file and its modules (empty file: none); W += scale·B·A in fp32 before any
   *  quantization, so calibration and the written checkpoint see the merged model. */
  std::string loraFile;
  std::vector<runtime::LoraModule> loraModules;
  /** Calibration windows: samples × seqLen ids (gptq, awq; empty for the others). */
  std::vector<int32_t> calibration;
  int64_t seqLen = 0;
  /** Shard the weights past this many bytes (0: one file). */
  int64_t maxShardBytes = 0;
};

/** A GPTQ module whose Hessian factorised only with more damping than damp_percent (damp_auto_increment). */
struct RaisedDamping {
  std::string module;
  double dampPercent = 0.0;  // the damping that made it factorisable
};

struct LayerReport {
  std::string name;  // e.g. model.layers.3
  double seconds = 0.0;
  /** Relative error ‖y − ŷ‖² / ‖y‖²: of the layer output on the calibration data when there is some
   *  (y from the fp layer, ŷ from the quantized one, same inputs), else of the weights. */
  double error = 0.0;
  bool outputError = false;
  /** MoE layers under GPTQ and AWQ: the calibration tokens routed to each expert, and the experts with linears
   * quantized round-to-nearest for too few (GPTQModel 7.7's fallback: GPTQ per expert under 0.5% of the calibration
   * tokens; AWQ per scale group, awq_moe_step.cc). */
  std::vector<int64_t> expertTokens;
  std::vector<int64_t> fallbackExperts;
  std::vector<RaisedDamping> raisedDamping;
  /** SignRound: the batch's mean squared output error at round-to-nearest (the first iteration) and at the kept
   *  iteration; negative when the layer was not tuned. */
  double roundingLossStart = -1.0, roundingLossBest = -1.0;
  int64_t roundingBestIteration = -1;
};

struct Progress {
  std::string phase;  // "load", "calibrate", "round" (signRound's iterations on the layer being tuned), "layer",
                      // "write", "done"
  int64_t done = 0, total = 0;
  const LayerReport* layer = nullptr;  // phase "layer", after each layer
};

struct PipelineResult {
  std::string out;
  int64_t bytes = 0;  // all files written
  double seconds = 0.0;
  std::vector<LayerReport> layers;
};

/** Checks every linear of `model` against the options before any work, so a bad config fails at once with a
 *  quant::QuantError naming the layer. */
void Validate(const PipelineOptions& options, const runtime::Model& model);

/** Runs the whole pipeline. Throws quant::QuantError / io::IoError / std::runtime_error with an actionable
 *  message (naming the layer), or quant::Cancelled when ctx's flag was raised; nothing is left behind then. */
PipelineResult Quantize(const PipelineOptions& options, const std::function<void(const Progress&)>& progress,
                        const quant::JobContext& ctx);

}  // namespace quantstudio::pipeline
