// The runtime's one way to run a linear over many rows (model_forward.cc, moe_forward.cc).
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/linear.h"

namespace quantstudio::runtime {

// The product kernels block over weight rows and sweep all of x per block, which is fast while x stays in
// cache; a batch of long prompts (16 × 512 rows) does not, so such products run in cache-sized row blocks
// (tiny-llama, 16 × 512 prefill: about 30% less CPU time than one product over all rows).
constexpr int64_t kProjectBlockBytes = 1 << 20;

inline void Project(const Linear& linear, const float* x, int64_t rows, float* y) {
  const int64_t in = linear.inFeatures(), out = linear.outFeatures();
  const int64_t blocks = std::max<int64_t>(1, rows * in * 4 / kProjectBlockBytes);
  // Equal blocks, so none is a single row (which would take the decode GEMV and round differently).
  const int64_t per = (rows + blocks - 1) / blocks;
  for (int64_t r = 0; r < rows; r += per) linear.Forward(x + r * in, std::min(per, rows - r), y + r * out);
}

}  // namespace quantstudio::runtime
