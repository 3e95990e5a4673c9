// LLM.int8() weight quantization: row-wise absmax → int8 with the fp32 row scale bitsandbytes calls
// SCB. The outlier threshold acts on activations at inference time; it is recorded in the config.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/job.h"

namespace quantstudio::quant {

struct Int8Options {
  float threshold = 6.0f;  // llm_int8_threshold
};

struct Int8Quantized {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> q;   // [rows × cols]
  std::vector<float> scb;  // [rows], the absmax of each row
  float threshold = 6.0f;

  /** As bitsandbytes' int8_vectorwise_dequant: q · SCB · (1/127), in fp32. */
  float Dequantize(int64_t r, int64_t c) const {
    return static_cast<float>(q[r * cols + c]) * scb[r] * 7.874015718698502e-3f;
  }
};

Int8Quantized QuantizeInt8(const WeightMatrix& w, const Int8Options& options, const JobContext& ctx);

}  // namespace quantstudio::quant
