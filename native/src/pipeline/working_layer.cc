#include "pipeline/working_layer.h"

#include <cstring>
#include <stdexcept>

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
    if (s.role == "q") v.q = l;
    else if (s.role == "k") v.k = l;
    else if (s.role == "v") v.v = l;
    else if (s.role == "o") v.o = l;
    else if (s.role == "qkv") v.qkv = l;
    else if (s.role == "gate_up") v.gateUp = l;
    else if (s.role == "gate") v.gate = l;
    else if (s.role == "up") v.up = l;
    else if (s.role == "down") v.down = l;
    else if (s.role == "router") v.router = l;
    else if (s.role == "shared_expert_gate") v.sharedExpertGate = l;
    if (s.expert < 0) continue;
    if (v.experts.size() <= static_cast<size_t>(s.expert)) v.experts.resize(static_cast<size_t>(s.expert) + 1);
    runtime::ExpertLinears& e = v.experts[static_cast<size_t>(s.expert)];
    if (s.role == "expert_gate") e.gate = l;
    else if (s.role == "expert_up") e.up = l;
    else if (s.role == "expert_down") e.down = l;
  }
  return v;
}

// A MoE block under the names the source checkpoint uses (runtime/model.cc LoadMoe): the router and Qwen2-MoE's
// shared_expert_gate as full-precision slots, the shared expert, then each routed expert's gate, up, down.
static void DescribeMoe(const runtime::Model& model, const std::string& p, WorkingLayer& layer) {
  const runtime::MoeSettings& moe = model.config().moe;
  const std::string block = moe.mixtralNames && model.weights().Find(p + "block_sparse_moe.gate.weight") ? p + "block_sparse_moe." : p + "mlp.";
  const char* names[3] = {"gate_proj", "up_proj", "down_proj"};
  if (moe.mixtralNames) names[0] = "w1", names[1] = "w3", names[2] = "w2";
  LinearSlot router{"router", block + "gate", InputTap::Mlp, nullptr};
  router.skipped = true;
  layer.slots.push_back(std::move(router));
  if (moe.sharedExpertIntermediateSize > 0) {
    LinearSlot gate{"shared_expert_gate", block + "shared_expert_gate", InputTap::Mlp, nullptr};
    gate.skipped = true;
    layer.slots.push_back(std::move(gate));
    layer.slots.push_back({"gate", block + "shared_expert.gate_proj", InputTap::Mlp, nullptr});
    layer.slots.push_back({"up", block + "shared_expert.up_proj", InputTap::Mlp, nullptr});
    layer.slots.push_back({"down", block + "shared_expert.down_proj", InputTap::Down, nullptr});
  }
  for (int64_t e = 0; e < moe.experts; ++e) {
    const std::string ep = block + "experts." + std::to_string(e) + ".";
    const std::pair<const char*, InputTap> parts[3] = {
        {"expert_gate", InputTap::ExpertIn}, {"expert_up", InputTap::ExpertIn}, {"expert_down", InputTap::ExpertDown}};
    for (int k = 0; k < 3; ++k) {
      LinearSlot slot{parts[k].first, ep + names[k], parts[k].second, nullptr};
      slot.expert = e;
      layer.slots.push_back(std::move(slot));
    }
  }
}

WorkingLayer DescribeLayer(const runtime::Model& model, int64_t index, bool splitFusedMlp) {
  const runtime::ModelConfig& c = model.config();
  WorkingLayer layer;
  layer.index = index;
  const std::string i = std::to_string(index);
  if (c.family == runtime::Family::Llama) {
    layer.name = "model.layers." + i;
    const std::string p = layer.name + ".";
    if (c.fusedProjections) {  // Phi-3: quantized as stored, one linear each (as GPTQModel and transformers keep them)
      layer.slots.push_back({"qkv", p + "self_attn.qkv_proj", InputTap::Attn, nullptr});
      layer.slots.push_back({"o", p + "self_attn.o_proj", InputTap::O, nullptr});
      if (splitFusedMlp) {
        const std::string fused = p + "mlp.gate_up_proj";
        layer.slots.push_back({"gate", p + "mlp.gate_proj", InputTap::Mlp, nullptr, false, fused, 0, c.intermediateSize});
        layer.slots.push_back({"up", p + "mlp.up_proj", InputTap::Mlp, nullptr, false, fused, c.intermediateSize,
                               c.intermediateSize});
      } else {
        layer.slots.push_back({"gate_up", p + "mlp.gate_up_proj", InputTap::Mlp, nullptr});
      }
    } else {
      layer.slots.push_back({"q", p + "self_attn.q_proj", InputTap::Attn, nullptr});
      layer.slots.push_back({"k", p + "self_attn.k_proj", InputTap::Attn, nullptr});
      layer.slots.push_back({"v", p + "self_attn.v_proj", InputTap::Attn, nullptr});
      layer.slots.push_back({"o", p + "self_attn.o_proj", InputTap::O, nullptr});
      if (!c.moe.Sparse(index)) {
        layer.slots.push_back({"gate", p + "mlp.gate_proj", InputTap::Mlp, nullptr});
        layer.slots.push_back({"up", p + "mlp.up_proj", InputTap::Mlp, nullptr});
      }
    }
    if (c.moe.Sparse(index)) DescribeMoe(model, p, layer);
    else layer.slots.push_back({"down", p + "mlp.down_proj", InputTap::Down, nullptr});
    // Gemma's MLP input norm is pre_feedforward_layernorm (its post_attention_layernorm norms the attention output).
    const std::string mlpNorm = c.sandwichNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm";
    layer.normNames = {p + "input_layernorm.weight", "", p + mlpNorm + ".weight", ""};
  } else {
    const std::string root = model.weights().Find("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
    layer.name = root + "layers." + i;
    const std::string p = layer.name + ".";
    layer.slots.push_back({"q", p + "self_attn.q_proj", InputTap::Attn, nullptr});
    layer.slots.push_back({"k", p + "self_attn.k_proj", InputTap::Attn, nullptr});
    layer.slots.push_back({"v", p + "self_attn.v_proj", InputTap::Attn, nullptr});
    layer.slots.push_back({"o", p + "self_attn.out_proj", InputTap::O, nullptr});
    layer.slots.push_back({"up", p + "fc1", InputTap::Mlp, nullptr});
    layer.slots.push_back({"down", p + "fc2", InputTap::Down, nullptr});
    layer.normNames = {p + "self_attn_layer_norm.weight", p + "self_attn_layer_norm.bias",
                       p + "final_layer_norm.weight", p + "final_layer_norm.bias"};
  }
  return layer;
}

WorkingLayer LoadLayer(const runtime::Model& model, int64_t index, bool splitFusedMlp) {
  WorkingLayer layer = DescribeLayer(model, index, splitFusedMlp);
  const io::ModelWeights& w = model.weights();
  for (LinearSlot& slot : layer.slots) {
    const io::TensorView* t = w.Find(slot.SourceName() + ".weight");
    if (!t) {
      throw std::runtime_error(slot.SourceName() + ".weight: not found as a dense weight (the source looks already "
                               "quantized); quantize an fp16/bf16/fp32 checkpoint");
    }
    if (t->shape.size() != 2 || (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)) {
      throw std::runtime_error(slot.name + ".weight: expected a 2-D F32/F16/BF16 tensor, got " + DTypeName(t->dtype) +
                               " " + formats::ShapeString(t->shape));
    }
    std::vector<float> bias;
    if (const io::TensorView* b = w.Find(slot.SourceName() + ".bias")) bias = formats::ReadFloats(*b);
    std::vector<float> weight = formats::ReadFloats(*t);
    int64_t rows = t->shape[0];
    if (slot.sourceRows > 0) {  // a row block of a fused projection
      const int64_t cols = t->shape[1];
      weight = std::vector<float>(weight.begin() + slot.sourceRow * cols, weight.begin() + (slot.sourceRow + slot.sourceRows) * cols);
      if (!bias.empty()) bias = std::vector<float>(bias.begin() + slot.sourceRow, bias.begin() + slot.sourceRow + slot.sourceRows);
      rows = slot.sourceRows;
    }
    slot.linear = std::make_unique<Fp32Linear>(std::move(weight), std::move(bias), rows, t->shape[1]);
  }
  layer.norms = model.layerNorms(index);
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

}  // namespace quantstudio::pipeline
