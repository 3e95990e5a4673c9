// AutoAWQ checkpoints (4-bit, zero point, groups in column order):
//   GEMM: qweight int32 [in, out/8] with each word holding 8 outputs in AWQ's interleaved nibble order
//         (nibble i = output kAwqOrder[i] of the 8, core/bitpack.h), qzeros [groups, out/8] the
//         same way, scales fp16 [groups, out]. Repacked once into GPTQ's layout (8 inputs of one output per
//         word), whose GEMV reads 16 outputs × 8 inputs per 64-byte load where AWQ's words give 16 × 1.
//   GEMV: qweight int32 [out, in/8] (nibble i = input 8w + i), qzeros int32 [out, width] (nibble i of
//         word w = group 8w + i), scales fp16 [out, 8·width]; width ≥ groups, padded.
#pragma once

#include <cstdint>
#include <memory>

#include "core/dtype.h"

#include "kernels/qmatmul.h"

namespace quantstudio::kernels {

struct AwqPacked {
  const uint8_t* qweight;
  const uint8_t* qzeros;
  const uint8_t* scales;  // in scalesType (GEMV: fp16 only)
  int64_t in, out, groupSize;
  int64_t zerosWidth;             // GEMV only: words per row of qzeros
  DType scalesType = DType::F16;  // GPTQModel 7.x writes a bf16 model's AWQ scales in bf16
};

/** GEMM: the codes and zero points are copied (the matrix keeps them), the scales read in place. in and out must be
 *  multiples of 8, in a multiple of groupSize. */
std::unique_ptr<QuantMatrix> MakeAwqGemmMatrix(const AwqPacked& packed);
/** GEMV: read in place. */
std::unique_ptr<QuantMatrix> MakeAwqGemvMatrix(const AwqPacked& packed);

}  // namespace quantstudio::kernels
