// GPTQ v1 (AutoGPTQ / GPTQModel "gptq" format) read in place: qweight int32 [in·bits/32, out] (a bit
// stream per output column down the input dim; 3-bit values straddle words), qzeros int32
// [groups, out·bits/32] holding zero − 1 (word-wise for 2/4/8 bits, per value for 3), scales fp16
// [groups, out], g_idx int32 [in] (any order: act-order permutes it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "kernels/qmatmul.h"

namespace quantstudio::kernels {

struct GptqPacked {
  const uint8_t* qweight;
  const uint8_t* qzeros;
  const uint8_t* scales;  // [groups, out] in scalesType
  const uint8_t* gIdx;    // int32, each in [0, groups); null when the checkpoint has none
  int bits;               // 2, 3, 4 or 8
  int64_t in, out, groups;
  int64_t groupSize;              // the group of column c is c / groupSize when gIdx is null
  DType scalesType = DType::F16;  // GPTQModel 7.x writes a bf16 model's scales in bf16
  bool v2Zeros = false;           // checkpoint_format "gptq_v2": qzeros hold the zero points (v1: zero − 1)
};

/** The data must outlive the matrix (it is read from the mapping on every call). */
std::unique_ptr<QuantMatrix> MakeGptqMatrix(const GptqPacked& packed);

/** Codes and zero points in GPTQ's layout that a matrix keeps (another layout repacked at load). */
struct GptqCodes {
  std::vector<uint32_t> qweight;  // [in·bits/32, out]
  std::vector<uint32_t> qzeros;   // [groups, out·bits/32]
};

/** A matrix over codes it keeps: packed.qweight and packed.qzeros point into `codes`; the scales (and g_idx) must
 *  outlive it. */
std::unique_ptr<QuantMatrix> MakeGptqMatrix(const GptqPacked& packed, std::unique_ptr<const GptqCodes> codes);

}  // namespace quantstudio::kernels
