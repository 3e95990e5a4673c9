// Applying a PEFT LoRA adapter to an opened model: the adapter names modules as the checkpoint does, so each name
// maps to one of the model's linears, whatever storage it was loaded from.
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "runtime/model.h"

namespace quantstudio::runtime {

std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> Model::NamedLinears() {
  std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> named;
  const bool opt = config_.family == Family::Opt;
  const std::string root =
      opt ? (weights_->Find("model.decoder.embed_tokens.weight") ? "model.decoder.layers." : "decoder.layers.")
          : "model.layers.";
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    const std::string p = root + std::to_string(i) + ".";
    const std::pair<const char*, std::unique_ptr<Linear>*> slots[] = {
        {"self_attn.q_proj", &l.q},
        {"self_attn.k_proj", &l.k},
        {"self_attn.v_proj", &l.v},
        {"self_attn.qkv_proj", &l.qkv},
        {opt ? "self_attn.out_proj" : "self_attn.o_proj", &l.o},
        {"mlp.gate_up_proj", &l.gateUp},
        {"mlp.gate_proj", &l.gate},
        {opt ? "fc1" : "mlp.up_proj", &l.up},
        {opt ? "fc2" : "mlp.down_proj", &l.down},
    };
    // A MoE layer's gate/up/down are its shared expert: named differently, and not adapted here.
    const bool moe = l.router != nullptr;
    for (const auto& [name, linear] : slots) {
      if (*linear && !(moe && linear != &l.q && linear != &l.k && linear != &l.v && linear != &l.o))
        named.emplace_back(p + name, linear);
    }
  }
  if (!config_.tieWordEmbeddings && lmHead_) named.emplace_back("lm_head", &lmHead_);
  return named;
}

void Model::ApplyLora(const io::SafetensorsFile& adapter, const std::vector<LoraModule>& modules) {
  std::map<std::string, std::unique_ptr<Linear>*> linears;
  for (auto& [name, linear] : NamedLinears()) linears[name] = linear;
  std::set<std::string> read;
  for (const LoraModule& m : modules) {
    const auto it = linears.find(m.name);
    if (it == linears.end()) {
      throw std::runtime_error(adapter.path() + ": " + LoraTensorName(m.name, 'A') + " adapts " + m.name +
                               ", which is not a linear layer of this model that LoRA can adapt");
    }
    std::unique_ptr<Linear>& linear = *it->second;
    LoraWeights w = ReadLoraWeights(adapter, m, linear->inFeatures(), linear->outFeatures());
    linear = std::make_unique<LoraLinear>(std::move(linear), std::move(w));
    read.insert(LoraTensorName(m.name, 'A'));
    read.insert(LoraTensorName(m.name, 'B'));
  }
  for (const io::TensorView& t : adapter.tensors()) {
    if (!read.count(t.name)) {
      throw std::runtime_error(adapter.path() + ": " + t.name +
                               " is not a lora_A/lora_B weight of a linear layer (only LoRA on linear layers is "
                               "supported)");
    }
  }
}

}  // namespace quantstudio::runtime
