#include "pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "formats/checkpoint_config.h"
#include "io/output_folder.h"
#include "pipeline/block_gradient.h"
#include "pipeline/checkpoint_writer.h"
#include "pipeline/gptq_dynamic.h"
#include "pipeline/layer_step.h"
#include "pipeline/skipped_modules.h"
#include "quant/rtn.h"
#include "runtime/model.h"

namespace quantstudio::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool Calibrated(Method m) { return m == Method::Gptq || m == Method::Awq; }

bool Gptaq(const PipelineOptions& o) { return o.method == Method::Gptq && o.gptq.gptaqAlpha > 0.0; }
bool SignRound(const PipelineOptions& o) { return o.method == Method::Gptq && o.signRound.iters > 0; }
// GPTAQ and SignRound carry a second activation stream: the full-precision model's.
bool NativeStream(const PipelineOptions& o) { return Gptaq(o) || SignRound(o); }

formats::Feed FeedOf(Method m) {
  switch (m) {
    case Method::Nf4:
    case Method::Fp4: return formats::Feed::Bnb4;
    case Method::Int8: return formats::Feed::Int8;
    default: return formats::Feed::Group;
  }
}

std::string BitsList(const std::vector<int>& bits) {
  std::string s;
  for (size_t i = 0; i < bits.size(); ++i)
    s += (i == 0 ? "" : i + 1 == bits.size() ? " or " : ", ") + std::to_string(bits[i]);
  return s;
}

// "the awq-gemm layout holds 4-bit weights only (bits 3); use bits 4, or the gptq layout"
std::string BitsError(const formats::CheckpointLayout& layout, int bits) {
  std::string msg = std::string("the ") + layout.name + " layout holds " + BitsList(layout.bits) +
                    "-bit weights only (bits " + std::to_string(bits) + "); use bits " + BitsList(layout.bits);
  for (const formats::CheckpointLayout& other : formats::CheckpointLayouts())
    if (other.feed == layout.feed && other.HoldsBits(bits)) return msg + ", or the " + other.name + " layout";
  return msg;
}

// SignRound tunes each group's range and rounding itself, on the layers block_gradient.h differentiates.
void ValidateSignRound(const PipelineOptions& o, const runtime::Model& model) {
  const quant::SignRoundOptions& s = o.signRound;
  if (o.method != Method::Gptq) throw quant::QuantError("signRound: learned rounding writes GPTQ checkpoints only");
  if (s.batchSize < 1 || !(s.lr > 0.0) || !(s.minmaxLr > 0.0))
    throw quant::QuantError("signRound: batchSize must be at least 1 and lr, minmaxLr above 0");
  const std::string remove = "; learned rounding sets each group's range and rounding itself";
  if (o.gptq.gptaqAlpha > 0.0) throw quant::QuantError("signRound: remove gptaq from the config" + remove);
  if (o.gptq.mse > 0.0) throw quant::QuantError("signRound: remove mse from the config" + remove);
  // act_group_aware only orders GPTQ's error feedback, which learned rounding does not run: nothing to refuse.
  if (o.gptq.descAct) throw quant::QuantError("signRound: remove desc_act from the config" + remove);
  for (const GptqModuleRule& rule : o.dynamic)
    if (rule.descAct == 1) throw quant::QuantError("signRound: dynamic " + rule.key + " sets desc_act" + remove);
  for (int64_t i = 0; i < model.config().layers; ++i) {
    const std::string why = BlockGradientUnsupported(model, i);
    if (!why.empty())
      throw quant::QuantError("signRound: " + why +
                              "; learned rounding runs on dense Llama-family layers (Llama, Mistral, Qwen2/3); "
                              "quantize this model without signRound");
  }
}

}  // namespace

void Validate(const PipelineOptions& o, const runtime::Model& model) {
  const formats::CheckpointLayout& layout = formats::LayoutOf(o.layout);
  if (FeedOf(o.method) != layout.feed)
    throw quant::QuantError(
        "the method and the checkpoint layout do not match (group methods write GPTQ/AWQ, "
        "bitsandbytes methods write bnb)");
  const int groupBits = o.method == Method::Awq ? o.awq.bits : o.gptq.bits;
  if (layout.feed == formats::Feed::Group && !layout.HoldsBits(groupBits))
    throw quant::QuantError(BitsError(layout, groupBits));
  if (Calibrated(o.method) && (o.calibration.empty() || o.seqLen <= 0))
    throw quant::QuantError("GPTQ and AWQ need calibration data; give a dataset with at least one window");
  if (Gptaq(o) && model.config().moe.experts > 0)
    throw quant::QuantError(
        "gptaq: Mixture-of-Experts models are not supported (an expert sees different tokens in the full-precision "
        "and the quantized model); remove gptaq");
  if (o.signRound.iters > 0) ValidateSignRound(o, model);
  for (int64_t i = 0; i < model.config().layers; ++i) {
    const WorkingLayer layer = DescribeLayer(model, i, TreeOf(layout));
    for (const LinearSlot& s : layer.slots) {
      if (s.Router()) continue;  // never quantized
      const io::TensorView* t = model.weights().Find(s.SourceName() + ".weight");
      if (!t || t->shape.size() != 2) continue;  // LoadLayer reports it with its name
      const int64_t rows = s.sourceRows > 0 ? s.sourceRows : t->shape[0], cols = t->shape[1];
      const quant::WeightMatrix w{s.name, nullptr, rows, cols};
      if (o.method == Method::Gptq || o.method == Method::Rtn) {
        const GptqModuleRule* rule = o.dynamic.empty() ? nullptr : DynamicRuleFor(o, s.name);
        if (rule && rule->skip) continue;
        const quant::GptqOptions g = GptqOptionsFor(o, s.name);
        if (rule && layout.feed == formats::Feed::Group && !layout.HoldsBits(g.bits))
          throw quant::QuantError(s.name + " (dynamic " + rule->key + "): " + BitsError(layout, g.bits));
        quant::CheckGroupOptions(w, g.bits, g.groupSize);
        if (o.method == Method::Gptq) {
          const std::string e = quant::ValidateGptqOptions(g, cols);
          if (!e.empty()) throw quant::QuantError(s.name + (rule ? " (dynamic " + rule->key + ")" : "") + ": " + e);
        }
      }
      if (o.method == Method::Awq) {
        const std::string e = quant::ValidateAwqOptions(o.awq, cols);
        if (!e.empty()) throw quant::QuantError(s.name + ": " + e);
      }
      const int64_t m = layout.featureMultiple;
      if (m > 0 && (rows % m != 0 || cols % m != 0)) {
        throw quant::QuantError(s.name + ": the " + layout.name + " layout packs " + std::to_string(m) +
                                " values per int32; in/out features " + std::to_string(cols) + "/" +
                                std::to_string(rows) + " must be multiples of " + std::to_string(m) +
                                " (skip this module)");
      }
    }
  }
}

namespace {

// A linear kept as stored whose checkpoint name differs from the source's (GPTQModel 7.7's Mixtral tree writes the
// router and skipped experts under mlp.): the same bytes under the written name.
void RenameKept(const runtime::Model& model, const WorkingLayer& layer, TensorEdits& edits) {
  for (const LinearSlot& s : layer.slots) {
    if (!s.skipped || s.source.empty() || s.sourceRows > 0) continue;
    for (const char* part : {".weight", ".bias"}) {
      const io::TensorView* t = model.weights().Find(s.source + part);
      if (!t) continue;
      edits.removed.insert(t->name);
      edits.added[s.name + part] =
          formats::OwnedTensor{s.name + part, t->dtype, t->shape, std::vector<uint8_t>(t->data, t->data + t->nbytes)};
    }
  }
}

// ‖ŷ − y‖² / ‖y − x‖²: the output error relative to what the layer adds to the residual stream.
double RelativeOutputError(const std::vector<float>& x, const std::vector<float>& fp, const std::vector<float>& q) {
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(q[i]) - fp[i]) * (static_cast<double>(q[i]) - fp[i]);
    ref += (static_cast<double>(fp[i]) - x[i]) * (static_cast<double>(fp[i]) - x[i]);
  }
  return ref > 0.0 ? err / ref : 0.0;
}

formats::CheckpointConfig CheckpointConfigOf(const PipelineOptions& o, const std::vector<std::string>& keptDense) {
  formats::CheckpointConfigOptions c;
  c.gptq = {o.gptq.bits,      o.gptq.groupSize,    o.gptq.descAct, o.gptq.sym, o.gptq.dampPercent,
            o.trueSequential, o.gptq.staticGroups, o.dynamicJson,  o.gptqV2};
  // RTN into an AWQ layout takes its width and groups from the group options.
  c.awq.bits = o.method == Method::Rtn ? o.gptq.bits : o.awq.bits;
  c.awq.groupSize = o.method == Method::Rtn ? o.gptq.groupSize : o.awq.groupSize;
  c.awq.zeroPoint = true;
  c.bnb = o.bnb;
  c.skipModules = o.skipModules;
  c.skipModules.insert(c.skipModules.end(), keptDense.begin(), keptDense.end());
  return formats::CheckpointConfigFor(o.layout, c);
}

// The adapter's factors by module, checked against the source's linears (names, shapes, no other tensors) as the
// runtime checks them; modules the pipeline never widens (lm_head) are refused, their delta would not be written.
LoraMerges ReadMerges(const PipelineOptions& o, runtime::Model& model) {
  LoraMerges merges;
  if (o.loraFile.empty()) return merges;
  std::unique_ptr<io::SafetensorsFile> file = io::SafetensorsFile::Open(o.loraFile);
  model.ApplyLora(*file, o.loraModules);
  for (const runtime::LoraModule& m : o.loraModules) {
    if (m.name == "lm_head") {
      throw std::runtime_error("merge then quantize: the adapter adapts lm_head, which quantization writes as stored");
    }
    const io::TensorView& w = model.weights().Get(m.name + ".weight");
    merges.emplace(m.name, runtime::ReadLoraWeights(*file, m, w.shape.at(1), w.shape.at(0)));
  }
  return merges;
}

}  // namespace

PipelineResult Quantize(const PipelineOptions& options, const std::function<void(const Progress&)>& progress,
                        const quant::JobContext& ctx) {
  const Clock::time_point started = Clock::now();
  const auto report = [&](const std::string& phase, int64_t done, int64_t total, const LayerReport* layer) {
    if (progress) progress(Progress{phase, done, total, layer});
  };
  report("load", 0, 1, nullptr);
  io::OutputFolder folder(options.out, options.source, options.overwrite);
  std::unique_ptr<runtime::Model> model = runtime::Model::Load(options.source, options.model);
  Validate(options, *model);
  const LoraMerges merges = ReadMerges(options, *model);
  const runtime::ModelConfig& config = model->config();
  const int64_t hidden = config.hiddenSize;

  // Calibration windows → the inputs of layer 0.
  Activations inputs;
  const bool calibrated = Calibrated(options.method);
  if (calibrated) {
    report("calibrate", 0, 1, nullptr);
    inputs.seqLen = options.seqLen;
    inputs.samples = static_cast<int64_t>(options.calibration.size()) / options.seqLen;
    inputs.x.resize(static_cast<size_t>(inputs.tokens() * hidden));
    for (int64_t s = 0; s < inputs.samples; ++s) {
      model->EmbedSequence(options.calibration.data() + s * inputs.seqLen, inputs.seqLen,
                           inputs.x.data() + s * inputs.seqLen * hidden);
    }
    if (NativeStream(options)) inputs.native = inputs.x;
  }

  PipelineResult result;
  TensorEdits edits;
  // A MoE model's dense MLPs (Qwen's mlp_only_layers) that GPTQModel's tree keeps in float: listed in the written
  // skip key too, or transformers 5.23 builds quantized Linears for them and finds no quantized tensors.
  std::vector<std::string> keptDense;
  for (int64_t i = 0; i < config.layers; ++i) {
    ctx.CheckCancelled();
    const Clock::time_point layerStart = Clock::now();
    WorkingLayer layer = DescribeLayer(*model, i, TreeOf(formats::LayoutOf(options.layout)));
    if (config.moe.experts > 0 && !config.moe.Sparse(i)) {
      for (const LinearSlot& s : layer.slots) {
        const bool listed = std::any_of(options.skipModules.begin(), options.skipModules.end(),
                                        [&](const std::string& key) { return MatchesSkipKey(s.name, key); });
        if (s.skipped && !listed && (s.role == "gate" || s.role == "up" || s.role == "down"))
          keptDense.push_back(s.name);
      }
    }
    MarkSkipped(layer, options);
    // A linear kept as stored needs no fp32 copy unless the calibration forward runs it (a MoE model's experts under
    // bitsandbytes: a whole layer of them).
    LoadWeights(*model, layer, calibrated, &merges);
    LayerReport r;
    r.name = layer.name;
    const LayerStep step{*model, layer, inputs, options, ctx, edits, &r};
    if (calibrated) {
      std::vector<float> fpOut, qOut;
      runtime::LayerTaps taps;
      RunOverCalibration(step, &fpOut, SignRound(options) ? nullptr : &taps);
      if (SignRound(options)) {
        // The full-precision layer's outputs on the full-precision model's inputs: the target, and its next inputs.
        Activations native;
        native.x = std::move(inputs.native);
        native.samples = inputs.samples;
        native.seqLen = inputs.seqLen;
        RunOverCalibration(LayerStep{*model, layer, native, options, ctx, edits, nullptr}, &inputs.native, nullptr);
        quant::JobContext tuning = ctx;  // the same cancel word; each iteration reported as phase "round"
        tuning.progress = [&](int64_t done, int64_t total) { report("round", done, total, nullptr); };
        const SignRoundReport rounding =
            QuantizeLayerSignRound(LayerStep{*model, layer, inputs, options, tuning, edits, &r}, inputs.native, qOut);
        r.roundingLossStart = rounding.firstLoss;
        r.roundingLossBest = rounding.bestLoss;
        r.roundingBestIteration = rounding.bestIteration;
      } else if (options.method == Method::Gptq) {
        // GPTAQ: the full-precision model's activations through this layer while it is still fp.
        runtime::LayerTaps nativeTaps;
        if (Gptaq(options)) {
          Activations native;
          native.x = std::move(inputs.native);
          native.samples = inputs.samples;
          native.seqLen = inputs.seqLen;
          RunOverCalibration(LayerStep{*model, layer, native, options, ctx, edits, nullptr}, &inputs.native,
                             &nativeTaps);
        }
        QuantizeLayerGptq(step, std::move(taps), qOut, Gptaq(options) ? &nativeTaps : nullptr);
      } else {
        QuantizeLayerAwq(step, std::move(taps));
        RunOverCalibration(step, &qOut, nullptr);  // the quantized layer feeds the next one
      }
      r.error = RelativeOutputError(inputs.x, fpOut, qOut);
      r.outputError = true;
      inputs.x = std::move(qOut);
    } else {
      r.error = QuantizeLayerDirect(step);
    }
    RenameKept(*model, layer, edits);
    r.seconds = Since(layerStart);
    result.layers.push_back(r);
    report("layer", i + 1, config.layers, &result.layers.back());
  }
  std::vector<float>().swap(inputs.x);
  std::vector<float>().swap(inputs.native);

  WeightsWriteOptions write;
  write.maxShardBytes = options.maxShardBytes;
  write.afterTensor = [&](int64_t done, int64_t total) {
    ctx.CheckCancelled();
    report("write", done, total, nullptr);
  };
  WriteWeights(folder, model->weights(), edits, write);
  const formats::CheckpointConfig qc = CheckpointConfigOf(options, keptDense);
  WriteConfigs(folder, options.sourceConfigJson, qc.quantizationConfig, qc.sideFileName,
               qc.sideFileName.empty() ? nullptr : &qc.sideFile);
  CopyModelFiles(folder, options.source);
  ctx.CheckCancelled();
  result.bytes = FolderBytes(folder.tempPath());
  model.reset();
  folder.Commit();
  result.out = folder.finalPath();
  result.seconds = Since(started);
  report("done", 1, 1, nullptr);
  return result;
}

}  // namespace quantstudio::pipeline
