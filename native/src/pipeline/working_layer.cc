#include "pipeline/working_layer.h"

#include <cstring>
#include <stdexcept>

#include "core/thread_pool.h"
#include "formats/tensor_set.h"
#include "kernels/matmul.h"

namespace quantstudio::pipeline {

Fp32Linear::Fp32Linear(std::vector<float> w, std::vector<float> b, int64_t rows, int64_t cols)
    : weight(std::move(w)), bias(std::move(b)), rows_(rows), cols_(cols) {}

void Fp32Linear::Forward(const float* x, int64_t m, float* y) const {
  const kernels::MatrixRef ref{DType::F32, weight.data(), rows_, cols_};
  kernels::MatMul(x, m, ref, bias.empty() ? nullptr : bias.data(), y);
}

LinearSlot* WorkingLayer::Find(const std::string& role) {
  for (LinearSlot& s : slots)
    if (s.role == role) return &s;
  return nullptr;
}

runtime::LayerLinears WorkingLayer::View() const {
  runtime::LayerLinears v;
  for (const LinearSlot& s : slots) {
    const runtime::Linear* l = s.linear.get();
    if (s.role == "q")
      v.q = l;
    else if (s.role == "k")
      v.k = l;
    else if (s.role == "v")
      v.v = l;
    else if (s.role == "o")
      v.o = l;
    else if (s.role == "qkv")
      v.qkv = l;
    else if (s.role == "gate_up")
      v.gateUp = l;
    else if (s.role == "gate")
      v.gate = l;
    else if (s.role == "up")
      v.up = l;
    else if (s.role == "down")
      v.down = l;
    else if (s.role == "router")
      v.router = l;
    else if (s.role == "shared_expert_gate")
      v.sharedExpertGate = l;
    if (s.expert < 0) continue;
    if (v.experts.size() <= static_cast<size_t>(s.expert)) v.experts.resize(static_cast<size_t>(s.expert) + 1);
    runtime::ExpertLinears& e = v.experts[static_cast<size_t>(s.expert)];
    if (s.role == "expert_gate")
      e.gate = l;
    else if (s.role == "expert_up")
      e.up = l;
    else if (s.role == "expert_down")
      e.down = l;
  }
  return v;
}

namespace {

// The separate q, k, v and o projections under self_attn: the families differ only in o's leaf name.
void AddAttentionSlots(WorkingLayer& layer, const std::string& p, const char* oProj) {
  for (const char* role : {"q", "k", "v"})
    layer.slots.push_back(LinearSlot::Of(role, p + "self_attn." + role + "_proj", InputTap::Attn));
  layer.slots.push_back(LinearSlot::Of("o", p + "self_attn." + oProj, InputTap::O));
}

// A weight widened to fp32 in chunks on the pool: a real model's decoder layer is hundreds of megabytes.
std::vector<float> WidenOnPool(const io::TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  DefaultThreadPool().ParallelFor(out.size(), size_t{1} << 16, [&](size_t b, size_t e) {
    formats::ReadFloats(t, static_cast<int64_t>(b), static_cast<int64_t>(e - b), out.data() + b);
  });
  return out;
}

}  // namespace

// A MoE block: the router and Qwen2-MoE's shared_expert_gate, the shared expert, then each routed expert's gate, up,
// down. Which are quantized and under which names follows the library that loads the checkpoint:
//  - tree.moeExperts (GPTQModel 7.7's module trees, models/definitions/{mixtral,qwen2_moe,qwen3_moe}.py): every routed
//  and
//    shared expert; the router and shared_expert_gate are "!" (kept). Mixtral's block is written as mlp. and its
//    w1/w3/w2 as gate_proj/up_proj/down_proj, the names its loader requires.
//  - otherwise (transformers 5.23 with bitsandbytes 0.50, which converts nn.Linear modules only): the shared expert
//    and shared_expert_gate (Linears), not the routed experts (3-D parameters of MixtralExperts / Qwen2MoeExperts) nor
//    the router (a parameter of its TopKRouter); names as stored.
static void DescribeMoe(const runtime::Model& model, const std::string& p, bool gptqTree, WorkingLayer& layer) {
  const runtime::MoeSettings& moe = model.config().moe;
  const std::string block = moe.mixtralNames && model.weights().Find(p + "block_sparse_moe.gate.weight")
                                ? p + "block_sparse_moe."
                                : p + "mlp.";
  const std::string written = gptqTree ? p + "mlp." : block;
  const bool wNames = model.weights().Find(block + "experts.0.w1.weight") != nullptr;
  const char* proj[3] = {"gate_proj", "up_proj", "down_proj"};
  const char* w[3] = {"w1", "w3", "w2"};
  const auto slot = [&](const std::string& role, const std::string& name, const std::string& source, InputTap input,
                        bool kept) {
    LinearSlot s = LinearSlot::Of(role, name, input);
    if (source != name) s.source = source;
    s.skipped = kept;
    return s;
  };
  layer.slots.push_back(slot("router", written + "gate", block + "gate", InputTap::Mlp, true));
  if (moe.sharedExpertIntermediateSize > 0) {
    layer.slots.push_back(slot("shared_expert_gate", written + "shared_expert_gate", block + "shared_expert_gate",
                               InputTap::Mlp, gptqTree));
    layer.slots.push_back(
        slot("gate", written + "shared_expert.gate_proj", block + "shared_expert.gate_proj", InputTap::Mlp, false));
    layer.slots.push_back(
        slot("up", written + "shared_expert.up_proj", block + "shared_expert.up_proj", InputTap::Mlp, false));
    layer.slots.push_back(
        slot("down", written + "shared_expert.down_proj", block + "shared_expert.down_proj", InputTap::Down, false));
  }
  const char* roles[3] = {"expert_gate", "expert_up", "expert_down"};
  const InputTap taps[3] = {InputTap::ExpertIn, InputTap::ExpertIn, InputTap::ExpertDown};
  for (int64_t e = 0; e < moe.experts; ++e) {
    const std::string ep = "experts." + std::to_string(e) + ".";
    for (int k = 0; k < 3; ++k) {
      const std::string name = written + ep + (gptqTree || !wNames ? proj[k] : w[k]);
      LinearSlot s = slot(roles[k], name, block + ep + (wNames ? w[k] : proj[k]), taps[k], !gptqTree);
      s.expert = e;
      layer.slots.push_back(std::move(s));
    }
  }
}

WorkingLayer DescribeLayer(const runtime::Model& model, int64_t index, ModuleTree tree) {
  const runtime::ModelConfig& c = model.config();
  WorkingLayer layer;
  layer.index = index;
  const std::string i = std::to_string(index);
  if (c.family == runtime::Family::Llama) {
    layer.name = "model.layers." + i;
    const std::string p = layer.name + ".";
    if (c.fusedProjections) {  // Phi-3: quantized as stored, one linear each (as GPTQModel and transformers keep them)
      layer.slots.push_back(LinearSlot::Of("qkv", p + "self_attn.qkv_proj", InputTap::Attn));
      layer.slots.push_back(LinearSlot::Of("o", p + "self_attn.o_proj", InputTap::O));
      if (tree.splitFused) {
        const std::string fused = p + "mlp.gate_up_proj";
        layer.slots.push_back(
            {"gate", p + "mlp.gate_proj", InputTap::Mlp, nullptr, false, fused, 0, c.intermediateSize});
        layer.slots.push_back(
            {"up", p + "mlp.up_proj", InputTap::Mlp, nullptr, false, fused, c.intermediateSize, c.intermediateSize});
      } else {
        layer.slots.push_back(LinearSlot::Of("gate_up", p + "mlp.gate_up_proj", InputTap::Mlp));
      }
    } else {
      AddAttentionSlots(layer, p, "o_proj");
      if (!c.moe.Sparse(index)) {
        layer.slots.push_back(LinearSlot::Of("gate", p + "mlp.gate_proj", InputTap::Mlp));
        layer.slots.push_back(LinearSlot::Of("up", p + "mlp.up_proj", InputTap::Mlp));
      }
    }
    if (c.moe.Sparse(index))
      DescribeMoe(model, p, tree.moeExperts, layer);
    else
      layer.slots.push_back(LinearSlot::Of("down", p + "mlp.down_proj", InputTap::Down));
    // GPTQModel 7.7's Qwen2-MoE / Qwen3-MoE trees hold no dense MLP: a layer in mlp_only_layers keeps it as stored.
    if (tree.moeExperts && c.moe.experts > 0 && !c.moe.Sparse(index)) {
      for (LinearSlot& s : layer.slots) s.skipped = s.skipped || s.role == "gate" || s.role == "up" || s.role == "down";
    }
    // Gemma's MLP input norm is pre_feedforward_layernorm (its post_attention_layernorm norms the attention output).
    const std::string mlpNorm = c.sandwichNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm";
    layer.normNames = {p + "input_layernorm.weight", "", p + mlpNorm + ".weight", ""};
  } else {
    const std::string root = model.weights().Find("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
    layer.name = root + "layers." + i;
    const std::string p = layer.name + ".";
    AddAttentionSlots(layer, p, "out_proj");
    layer.slots.push_back(LinearSlot::Of("up", p + "fc1", InputTap::Mlp));
    layer.slots.push_back(LinearSlot::Of("down", p + "fc2", InputTap::Down));
    layer.normNames = {p + "self_attn_layer_norm.weight", p + "self_attn_layer_norm.bias",
                       p + "final_layer_norm.weight", p + "final_layer_norm.bias"};
  }
  return layer;
}

void LoadWeights(const runtime::Model& model, WorkingLayer& layer, bool skipped, const LoraMerges* merges) {
  const io::ModelWeights& w = model.weights();
  for (LinearSlot& slot : layer.slots) {
    const auto merge = merges ? merges->find(slot.SourceName()) : LoraMerges::const_iterator();
    const bool merged = merges && merge != merges->end();
    // A kept slot is written from the source file as stored, so a merged delta would be lost.
    if (merged && slot.skipped) {
      throw std::runtime_error("merge then quantize: the adapter adapts " + slot.SourceName() +
                               ", which this job keeps unquantized (a skipped module); remove it from the skip list");
    }
    if (slot.skipped && !skipped) continue;
    const io::TensorView* t = w.Find(slot.SourceName() + ".weight");
    if (!t) {
      throw std::runtime_error(slot.SourceName() +
                               ".weight: not found as a dense weight (the source looks already "
                               "quantized); quantize an fp16/bf16/fp32 checkpoint");
    }
    if (t->shape.size() != 2 || (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)) {
      throw std::runtime_error(slot.name + ".weight: expected a 2-D F32/F16/BF16 tensor, got " + DTypeName(t->dtype) +
                               " " + formats::ShapeString(t->shape));
    }
    std::vector<float> bias;
    if (const io::TensorView* b = w.Find(slot.SourceName() + ".bias")) bias = formats::ReadFloats(*b);
    std::vector<float> weight = WidenOnPool(*t);
    if (merged) runtime::MergeLora(merge->second, weight.data());
    int64_t rows = t->shape[0];
    if (slot.sourceRows > 0) {  // a row block of a fused projection
      const int64_t cols = t->shape[1];
      weight = std::vector<float>(weight.begin() + slot.sourceRow * cols,
                                  weight.begin() + (slot.sourceRow + slot.sourceRows) * cols);
      if (!bias.empty())
        bias = std::vector<float>(bias.begin() + slot.sourceRow, bias.begin() + slot.sourceRow + slot.sourceRows);
      rows = slot.sourceRows;
    }
    slot.linear = std::make_unique<Fp32Linear>(std::move(weight), std::move(bias), rows, t->shape[1]);
  }
  layer.norms = model.layerNorms(layer.index);
}

WorkingLayer LoadLayer(const runtime::Model& model, int64_t index, ModuleTree tree) {
  WorkingLayer layer = DescribeLayer(model, index, tree);
  LoadWeights(model, layer, true);
  return layer;
}

void DivideColumns(std::vector<float>& x, int64_t cols, const std::vector<float>& s) {
  for (size_t i = 0; i < x.size(); ++i) x[i] /= s[i % static_cast<size_t>(cols)];
}

void MultiplyColumns(std::vector<float>& w, int64_t cols, const std::vector<float>& s) {
  for (size_t i = 0; i < w.size(); ++i) w[i] *= s[i % static_cast<size_t>(cols)];
}

void DivideRows(std::vector<float>& w, int64_t cols, const std::vector<float>& s, int64_t firstRow) {
  const size_t begin = static_cast<size_t>(firstRow * cols), end = begin + s.size() * static_cast<size_t>(cols);
  for (size_t i = begin; i < end; ++i) w[i] /= s[(i - begin) / static_cast<size_t>(cols)];
}

std::vector<uint8_t> EncodeFloats(const std::vector<float>& values, DType dtype) {
  std::vector<uint8_t> bytes(values.size() * DTypeSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::F32) {
      std::memcpy(bytes.data() + 4 * i, &values[i], 4);
    } else {
      const uint16_t h = dtype == DType::F16 ? F32ToF16(values[i]) : F32ToBf16(values[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  return bytes;
}

ModuleTree TreeOf(const formats::CheckpointLayout& layout) {
  return {layout.splitsFusedLinears, layout.feed == formats::Feed::Group};
}

}  // namespace quantstudio::pipeline
