// bitsandbytes weights read in place.
//   4-bit (NF4/FP4): the [out, in] matrix flattened row-major, two codes a byte (element 2i in the high
//     nibble), W = code[q] · absmax[flat index / blocksize]; absmax already widened (double quant undone).
//   8-bit (LLM.int8): int8 [out, in], W = q · SCB[row] / 127.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/qmatmul.h"

namespace quantstudio::kernels {

struct Bnb4Packed {
  const uint8_t* packed;       // (out·in + 1) / 2 bytes
  std::vector<float> absmax;   // [ceil(out·in / blocksize)]
  std::array<float, 16> code;  // quant_map
  int64_t in, out, blocksize;
};

struct Int8Packed {
  const uint8_t* weight;  // int8 [out, in]
  const uint8_t* scb;     // fp32 [out]
  int64_t in, out;
};

std::unique_ptr<QuantMatrix> MakeBnb4Matrix(Bnb4Packed packed);
std::unique_ptr<QuantMatrix> MakeInt8Matrix(const Int8Packed& packed);

/** LLM.int8 codes a matrix keeps (a dense matrix quantized at load, e.g. an int8 lm_head for decode). */
struct Int8Codes {
  std::vector<int8_t> weight;  // [out, in]
  std::vector<float> scb;      // [out]: each row's absmax
};

/** A matrix over codes it keeps: packed.weight and packed.scb point into `codes`. */
std::unique_ptr<QuantMatrix> MakeInt8Matrix(const Int8Packed& packed, std::unique_ptr<const Int8Codes> codes);

}  // namespace quantstudio::kernels
