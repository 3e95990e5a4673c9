// fp32, editable copies of one decoder layer's weights: the pipeline quantizes them in place (each linear
// replaced by its dequantized weights once done) and runs the layer through the runtime with them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "formats/layouts.h"
#include "runtime/linear.h"
#include "runtime/model.h"

namespace quantstudio::pipeline {

/** A linear owning fp32 weights [rows × cols] and an optional bias [rows]. */
class Fp32Linear final : public runtime::Linear {
 public:
  Fp32Linear(std::vector<float> weight, std::vector<float> bias, int64_t rows, int64_t cols);
  int64_t inFeatures() const override { return cols_; }
  int64_t outFeatures() const override { return rows_; }
  void Forward(const float* x, int64_t m, float* y) const override;

  std::vector<float> weight;  // editable: the pipeline scales, folds and replaces it
  std::vector<float> bias;

 private:
  int64_t rows_, cols_;
};

/** Which captured input a linear reads (q/k/v share one, gate/up share one; a MoE expert's gate/up read the rows
 *  routed to it, ExpertIn, and its down its own product, ExpertDown). */
enum class InputTap { Attn, O, Mlp, Down, ExpertIn, ExpertDown };

struct LinearSlot {
  // "q", "k", "v", "o", "gate", "up", "down" (fused: "qkv", "gate_up"; MoE: "router", "shared_expert_gate", which stay
  // full precision, and "expert_gate", "expert_up", "expert_down"; gate/up/down are then the shared expert's)
  std::string role;
  std::string name;  // full module name, e.g. model.layers.0.self_attn.q_proj
  InputTap input;
  std::unique_ptr<Fp32Linear> linear;
  bool skipped = false;  // modules_to_not_convert / llm_int8_skip_modules
  // Where the weights come from when not `name` itself: rows [sourceRow, sourceRow + sourceRows) of `source`
  // (GPTQ's Phi-3 layout splits the model's gate_up_proj into gate_proj and up_proj).
  std::string source;
  int64_t sourceRow = 0, sourceRows = 0;
  int64_t expert = -1;  // MoE: the routed expert this linear belongs to

  /** A slot read from its own weights (the other fields at their defaults). */
  static LinearSlot Of(std::string role, std::string name, InputTap input) {
    LinearSlot s;
    s.role = std::move(role);
    s.name = std::move(name);
    s.input = input;
    return s;
  }

  const std::string& SourceName() const { return source.empty() ? name : source; }
  /** MoE routers: never quantized (GPTQModel 7.7 and transformers 5.23 keep them full precision). */
  bool Router() const { return role == "router" || role == "shared_expert_gate"; }
};

struct NormTensorNames {
  std::string norm1Weight, norm1Bias, norm2Weight, norm2Bias;  // biases empty for RMSNorm
};

struct WorkingLayer {
  int64_t index = 0;
  std::string name;               // e.g. model.layers.0
  std::vector<LinearSlot> slots;  // in the model's order: q, k, v, o, [gate], up, down
  runtime::LayerNorms norms;
  NormTensorNames normNames;

  LinearSlot* Find(const std::string& role);
  runtime::LayerLinears View() const;
};

/** Which library's module tree the written checkpoint follows (GPTQModel 7.7 loads the gptq and AWQ layouts). */
struct ModuleTree {
  /** GPTQModel's Phi-3 tree: the fused gate_up_proj becomes gate_proj and up_proj (the gptq layout only: transformers'
   *  AWQ layouts keep it fused). */
  bool splitFused = false;
  /** GPTQModel's MoE trees: every expert quantized under mlp.experts.N.{gate,up,down}_proj (working_layer.cc
   *  DescribeMoe); otherwise transformers 5.23's, whose routed experts bitsandbytes never converts. */
  bool moeExperts = false;
};

/** The tree of a layout: GPTQModel 7.7 loads both group layouts (gptq, AWQ) with its MoE module trees; only the gptq
 *  layout splits Phi-3's gate_up_proj (transformers' AWQ layouts keep it fused, as the model does). */
ModuleTree TreeOf(const formats::CheckpointLayout& layout);

/** The module names of layer `index`'s linears and norms (Llama family or OPT naming) in `tree`. */
WorkingLayer DescribeLayer(const runtime::Model& model, int64_t index, ModuleTree tree = {});

/** LoRA factors to merge into the source modules' weights, by module name (merge then quantize). */
using LoraMerges = std::map<std::string, runtime::LoraWeights>;

/** fp32 copies of the slots' weights and biases (the skipped slots' too when `skipped`: a calibration forward runs
 *  them) and the layer's norms. Throws naming the tensor when a linear is not stored dense (e.g. the source is
 *  already quantized). */
void LoadWeights(const runtime::Model& model, WorkingLayer& layer, bool skipped, const LoraMerges* merges = nullptr);

/** DescribeLayer plus LoadWeights of every slot. */
WorkingLayer LoadLayer(const runtime::Model& model, int64_t index, ModuleTree tree = {});

/** x [tokens × cols] /= s per column; w [rows × cols] *= s per column; w rows /= s per row. */
void DivideColumns(std::vector<float>& x, int64_t cols, const std::vector<float>& s);
void MultiplyColumns(std::vector<float>& w, int64_t cols, const std::vector<float>& s);
/** Rows [firstRow, firstRow + s.size()) of w [rows × cols] divided by s (row r by s[r − firstRow]). */
void DivideRows(std::vector<float>& w, int64_t cols, const std::vector<float>& s, int64_t firstRow = 0);

/** fp32 values stored in `dtype` (F32, F16 or BF16), as a tensor ready to write. */
std::vector<uint8_t> EncodeFloats(const std::vector<float>& values, DType dtype);

}  // namespace quantstudio::pipeline
