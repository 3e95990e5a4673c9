// bitsandbytes 4-bit blockwise quantization (NF4 / FP4) with optional double quantization of the
// per-block absmax, laid out exactly as bitsandbytes stores it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "quant/job.h"

namespace quantstudio::quant {

enum class Bnb4Type { NF4, FP4 };

const char* Bnb4TypeName(Bnb4Type t);  // "nf4" / "fp4"

/** The 16-entry code tables, indexed by the 4-bit code (bitsandbytes' get_4bit_type). */
const std::array<float, 16>& Nf4Code();
const std::array<float, 16>& Fp4Code();
inline const std::array<float, 16>& Bnb4Code(Bnb4Type t) { return t == Bnb4Type::NF4 ? Nf4Code() : Fp4Code(); }

/** The signed 8-bit dynamic map that double quantization uses for the absmax (create_dynamic_map). */
const std::array<float, 256>& DynamicMap8();

struct Bnb4Options {
  Bnb4Type type = Bnb4Type::NF4;
  int64_t blocksize = 64;
  bool doubleQuant = false;
  int64_t nestedBlocksize = 256;
};

struct Bnb4Quantized {
  Bnb4Type type = Bnb4Type::NF4;
  int64_t blocksize = 64;
  std::vector<int64_t> shape;    // the original weight shape
  std::array<float, 16> code{};  // the code table (stored in checkpoints as quant_map)
  std::vector<uint8_t> packed;   // (n+1)/2 bytes; element 2i in the high nibble, 2i+1 in the low one
                                 // (bitsandbytes' bucket rule: nearest code, ties to the lower value)
  std::vector<float> absmax;     // [blocks] when not nested
  bool nested = false;
  std::vector<uint8_t> absmaxCodes;  // [blocks] when nested: indices into DynamicMap8()
  std::vector<float> nestedAbsmax;   // [ceil(blocks / nestedBlocksize)]
  int64_t nestedBlocksize = 256;
  std::array<float, 256> nestedCode{};  // nested_quant_map
  float offset = 0.0f;                  // mean absmax subtracted before the nested quantization

  int64_t numel() const;
  /** The per-block absmax a loader reconstructs (dequantized when nested). */
  std::vector<float> BlockAbsmax() const;
  /** All weights as fp32: code[q] × absmax of the block. */
  std::vector<float> Dequantize() const;
};

Bnb4Quantized QuantizeBnb4(const WeightMatrix& w, const Bnb4Options& options, const JobContext& ctx);

/** Index of the nearest code to x (first on ties, as torch.argmin picks); used for the 8-bit map. */
int NearestCode(const float* code, int n, float x);

}  // namespace quantstudio::quant
