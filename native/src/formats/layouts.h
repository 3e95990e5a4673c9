// The checkpoint layouts the engine writes and loads, one row each (as ggml's type traits): the names,
// bit widths, tensors, packing and quantization_config values of a layout are stated here once, and the
// pipeline, the packers' dispatch, the config writer, the bindings and the runtime loaders read them.
// model/checkpointLayouts.ts restates the table for the code that never loads the addon; the formats
// test holds the two equal through the formatLayouts() binding.
#pragma once

#include <string>
#include <vector>

#include "core/dtype.h"

namespace quantstudio::formats {

enum class LayoutId { Gptq, AwqGemm, AwqGemv, CtPacked, Bnb4, Bnb8 };

/** The quantizer result a layout packs: a group quantizer's (RTN, GPTQ, AWQ), bitsandbytes 4-bit's or LLM.int8's. */
enum class Feed { Group, Bnb4, Int8 };

/** Which configurations write a tensor: always, only without / with bitsandbytes' double quantization, or only
 *  with zero points (compressed-tensors' asymmetric weights). */
enum class When { Always, SingleQuant, DoubleQuant, Asymmetric };

struct LayoutTensor {
  const char* suffix;  // after "<prefix>."; "{quant_type}" stands for nf4 / fp4
  DType dtype;
  When when = When::Always;
};

struct CheckpointLayout {
  LayoutId id;
  const char* name;  // the engine's name of it ("gptq", "awq-gemm", ...), as the bindings take it
  Feed feed;
  std::vector<int> bits;              // code widths it holds
  bool symmetric;                     // accepts the group quantizer's sym option (AWQ always stores its zero points)
  int featureMultiple;                // in/out features must be multiples of this; 0 when the packer checks per width
  const char* packing;                // how the codes sit in the stored words (see the packers)
  std::vector<LayoutTensor> tensors;  // in the order the packer writes them
  const char* quantMethod;            // quantization_config.quant_method
  const char* version;                // quantization_config.version; "" when the method has none
  const char* checkpointFormat;       // quantization_config.checkpoint_format; "" when none
  const char* sideFile;               // the library's own config file beside config.json; "" when none
  const char* skipKey;                // the quantization_config key listing the modules kept unquantized
  bool splitsFusedLinears;            // follows GPTQModel's module tree (Phi-3's gate_up_proj split in two)
  bool engineWrites;                  // the pipeline writes it; false: the runtime only loads it

  bool HoldsBits(int b) const;
};

/** The gptq layout's checkpoint_format in GPTQModel's format v2: the same tensors, zero points stored as they are
 *  (the row's own "gptq" is v1, zero − 1). */
inline constexpr const char* kGptqV2Format = "gptq_v2";

/** Every layout, in the order the runtime tries them on a folder (GPTQ's qweight + g_idx before AWQ's
 *  qweight alone, bitsandbytes 4-bit's quant state before int8's SCB). */
const std::vector<CheckpointLayout>& CheckpointLayouts();
const CheckpointLayout& LayoutOf(LayoutId id);
/** nullptr when no layout has that name. */
const CheckpointLayout* FindLayout(const std::string& name);
/** "gptq, awq-gemm, awq-gemv, bnb4 or bnb8": for errors that list the names accepted (`writtenOnly`: the
 *  layouts the engine writes). */
std::string LayoutNames(bool writtenOnly = false);
/** "group", "bnb4" or "int8": the result kind the quantize binding reports. */
const char* FeedName(Feed f);
const char* WhenName(When w);

}  // namespace quantstudio::formats
