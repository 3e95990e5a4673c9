#include "formats/layouts.h"

#include <stdexcept>

namespace quantstudio::formats {
namespace {

using T = LayoutTensor;

// A function-local table, so loaders registered at static initialisation may read it.
const std::vector<CheckpointLayout>& Table() {
  static const std::vector<CheckpointLayout> kLayouts = {
      {LayoutId::Gptq,
       "gptq",
       Feed::Group,
       {2, 3, 4, 8},
       true,
       0,
       "gptq-v1-bitstream",
       {{"qweight", DType::I32}, {"qzeros", DType::I32}, {"scales", DType::F16}, {"g_idx", DType::I32}},
       "gptq",
       "",
       "gptq",
       "quantize_config.json",
       "modules_to_not_convert",
       true,
       true},
      {LayoutId::AwqGemm,
       "awq-gemm",
       Feed::Group,
       {4},
       false,
       8,
       "awq-gemm-interleaved",
       {{"qweight", DType::I32}, {"qzeros", DType::I32}, {"scales", DType::F16}},
       "awq",
       "gemm",
       "",
       "quant_config.json",
       "modules_to_not_convert",
       false,
       true},
      {LayoutId::AwqGemv,
       "awq-gemv",
       Feed::Group,
       {4},
       false,
       8,
       "awq-gemv-nibbles",
       {{"qweight", DType::I32}, {"qzeros", DType::I32}, {"scales", DType::F16}},
       "awq",
       "gemv",
       "",
       "quant_config.json",
       "modules_to_not_convert",
       false,
       true},
      // compressed-tensors 0.19 (llm-compressor 0.14's writer) "pack-quantized": the signed codes plus 2^(bits-1),
      // packed densely along the input (code i of a row at bits [i·bits, (i+1)·bits) of the row's words); zero
      // points of asymmetric group/channel weights packed the same way along the output dim
      // (compressors/pack_quantized/helpers.py pack_to_int32). Loaded only.
      {LayoutId::CtPacked,
       "ct-pack-quantized",
       Feed::Group,
       {4, 8},
       true,
       0,
       "pack-quantized",
       {T{"weight_packed", DType::I32}, T{"weight_scale", DType::F16}, T{"weight_shape", DType::I64},
        T{"weight_zero_point", DType::I32, When::Asymmetric}},
       "compressed-tensors",
       "",
       "",
       "",
       "ignore",
       false,
       false},
      {LayoutId::Bnb4,
       "bnb4",
       Feed::Bnb4,
       {4},
       false,
       0,
       "bnb4-nibbles",
       {T{"weight", DType::U8}, T{"weight.absmax", DType::F32, When::SingleQuant},
        T{"weight.absmax", DType::U8, When::DoubleQuant}, T{"weight.nested_absmax", DType::F32, When::DoubleQuant},
        T{"weight.nested_quant_map", DType::F32, When::DoubleQuant}, T{"weight.quant_map", DType::F32},
        T{"weight.quant_state.bitsandbytes__{quant_type}", DType::U8}},
       "bitsandbytes",
       "",
       "",
       "",
       "llm_int8_skip_modules",
       false,
       true},
      {LayoutId::Bnb8,
       "bnb8",
       Feed::Int8,
       {8},
       false,
       0,
       "int8-rows",
       {{"weight", DType::I8}, {"SCB", DType::F32}, {"weight_format", DType::U8}},
       "bitsandbytes",
       "",
       "",
       "",
       "llm_int8_skip_modules",
       false,
       true},
  };
  return kLayouts;
}

}  // namespace

bool CheckpointLayout::HoldsBits(int b) const {
  for (int x : bits)
    if (x == b) return true;
  return false;
}

const std::vector<CheckpointLayout>& CheckpointLayouts() { return Table(); }

const CheckpointLayout& LayoutOf(LayoutId id) {
  for (const CheckpointLayout& l : Table())
    if (l.id == id) return l;
  throw std::logic_error("checkpoint layout " + std::to_string(static_cast<int>(id)) +
                         " has no row in formats/layouts.cc");
}

const CheckpointLayout* FindLayout(const std::string& name) {
  for (const CheckpointLayout& l : Table())
    if (name == l.name) return &l;
  return nullptr;
}

std::string LayoutNames(bool writtenOnly) {
  std::vector<CheckpointLayout> all;
  for (const CheckpointLayout& l : Table())
    if (l.engineWrites || !writtenOnly) all.push_back(l);
  std::string s;
  for (size_t i = 0; i < all.size(); ++i)
    s += (i == 0 ? "" : i + 1 == all.size() ? " or " : ", ") + std::string(all[i].name);
  return s;
}

const char* FeedName(Feed f) {
  switch (f) {
    case Feed::Group: return "group";
    case Feed::Bnb4: return "bnb4";
    case Feed::Int8: return "int8";
  }
  return "?";
}

const char* WhenName(When w) {
  switch (w) {
    case When::Always: return "always";
    case When::SingleQuant: return "single-quant";
    case When::DoubleQuant: return "double-quant";
    case When::Asymmetric: return "asymmetric";
  }
  return "?";
}

}  // namespace quantstudio::formats
