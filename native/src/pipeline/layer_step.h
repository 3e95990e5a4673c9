// One decoder layer's quantization step, per method. Each step quantizes the layer's (non-skipped)
// linears, records their packed tensors, leaves the dequantized weights in the working layer, and
// the pipeline then re-runs the layer to produce the next layer's inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formats/tensor_set.h"
#include "pipeline/pipeline.h"
#include "pipeline/working_layer.h"
#include "quant/group_quant.h"
#include "runtime/model.h"

namespace quantstudio::pipeline {

/** What the written checkpoint holds instead of the source tensors. */
struct TensorEdits {
  std::map<std::string, formats::OwnedTensor> added;  // packed layers, folded norms/biases
  std::set<std::string> removed;                      // source tensors the packed ones replace
};

/** The calibration activations entering a layer: samples sequences of seqLen tokens, [tokens × hidden]. */
struct Activations {
  std::vector<float> x;
  /** GPTAQ: the same tokens' activations in the full-precision model (empty otherwise). */
  std::vector<float> native;
  int64_t samples = 0, seqLen = 0;
  int64_t tokens() const { return samples * seqLen; }
};

struct LayerStep {
  const runtime::Model& model;
  WorkingLayer& layer;
  const Activations& inputs;
  const PipelineOptions& options;
  const quant::JobContext& ctx;
  TensorEdits& edits;
  LayerReport* report = nullptr;  // MoE tokens per expert and RTN fallbacks; GPTQ's raised damping
};

/** Runs the working layer over every calibration sequence; taps (when given) receive the linears' inputs
 *  concatenated over the sequences, out (when given) the layer outputs. */
void RunOverCalibration(const LayerStep& step, std::vector<float>* out, runtime::LayerTaps* taps);

/** The tap of `input` in a LayerTaps; a slot's (an expert's: the rows routed to it). */
std::vector<float>& TapOf(runtime::LayerTaps& taps, InputTap input);
std::vector<float>& TapOf(runtime::LayerTaps& taps, const LinearSlot& slot);

/** Packs a group-quantized linear in the chosen layout, and replaces its working weight by the
 *  dequantized one. */
void StoreGroupQuantized(const LayerStep& step, LinearSlot& slot, const quant::GroupQuantized& q);

/** Records a changed fp tensor (a folded norm or bias) in the source tensor's dtype. */
void StoreFloatTensor(const LayerStep& step, const std::string& name, const std::vector<float>& values);

/** fpTaps: the linears' inputs from a pass of the fp layer (consumed). GPTQ leaves the quantized layer's outputs
 *  over the calibration data (the next layer's inputs) in qOut. GPTAQ: native holds the linears' inputs in the
 *  full-precision model (its own activations through the fp layer), consumed; null for plain GPTQ. */
void QuantizeLayerGptq(const LayerStep& step, runtime::LayerTaps fpTaps, std::vector<float>& qOut,
                       runtime::LayerTaps* native);
void QuantizeLayerAwq(const LayerStep& step, runtime::LayerTaps fpTaps);
/** SignRound's losses on one layer: the mean squared output error at the first iteration (round-to-nearest) and at
 *  the iteration whose parameters were kept. */
struct SignRoundReport {
  double firstLoss = 0.0, bestLoss = 0.0;
  int64_t bestIteration = 0;
};

/** SignRound (options.signRound) on a dense Llama-family layer: target holds the full-precision layer's outputs on the
 *  full-precision model's inputs; the quantized layer's outputs over the calibration data go to qOut. */
SignRoundReport QuantizeLayerSignRound(const LayerStep& step, const std::vector<float>& target,
                                       std::vector<float>& qOut);
/** RTN, NF4, FP4, int8: weights only. Returns the relative weight error of the layer. */
double QuantizeLayerDirect(const LayerStep& step);

}  // namespace quantstudio::pipeline
