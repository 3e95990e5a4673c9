// Little-endian bit streams in 32-bit words: value k occupies bits [k·bits, (k+1)·bits) of the
// stream, crossing a word boundary when it must. This is the layout GPTQ uses for 2/4/8 bits and,
// with values straddling words, for 3 bits (32 values in 3 words).
#pragma once

#include <cstdint>

namespace quantstudio::formats {

/** ORs `value` (< 2^bits) into slot k of the stream at words[0..]; `stride` is the distance between
 *  consecutive words of the stream (1 when contiguous, the row length when packing a column). */
inline void PutBits(uint32_t* words, int64_t stride, int64_t k, int bits, uint32_t value) {
  const int64_t bit = k * bits;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  words[word * stride] |= value << shift;
  if (shift + bits > 32) words[(word + 1) * stride] |= value >> (32 - shift);
}

inline uint32_t GetBits(const uint32_t* words, int64_t stride, int64_t k, int bits) {
  const int64_t bit = k * bits;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  uint32_t v = words[word * stride] >> shift;
  if (shift + bits > 32) v |= words[(word + 1) * stride] << (32 - shift);
  return v & ((1u << bits) - 1u);
}

}  // namespace quantstudio::formats
