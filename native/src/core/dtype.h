// Element types the engine reads and writes, and scalar conversions between the float formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace quantstudio {

// I64 only for small integer side tensors (compressed-tensors' weight_shape); no kernel reads it.
enum class DType { F32, F16, BF16, I8, U8, I32, I64 };

/** Bytes per element. */
inline size_t DTypeSize(DType t) {
  switch (t) {
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::I8:
    case DType::U8: return 1;
  }
  return 0;
}

/** The safetensors spelling ("F32", "F16", "BF16", "I8", "U8", "I32", "I64"). */
const char* DTypeName(DType t);

/** Parses a safetensors dtype string; false for types the engine does not handle (F64, U64, BOOL, F8_*, …). */
bool ParseDType(const std::string& name, DType* out);

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/** Round to nearest even, as torch does; NaN stays NaN. */
inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/** IEEE half → float, exact for every half value including subnormals, Inf and NaN. */
float F16ToF32(uint16_t h);

/** dst[i] = F16ToF32 of the i-th little-endian half at src (any alignment), through a table of all 65,536 halves. */
void F16ToF32(const uint8_t* src, int64_t n, float* dst);

/** float → IEEE half with round-to-nearest-even, overflow to Inf, as torch's .half(). */
uint16_t F32ToF16(float f);

}  // namespace quantstudio
