// Integer codes packed into little-endian 32-bit words, as GPTQ and AWQ checkpoints store them: the one
// definition the writers and loaders in formats/ and the kernels' scalar references both read, so a
// packing change cannot reach one side only.
#pragma once

#include <cstdint>
#include <cstring>

namespace quantstudio {

/** Word `index` of packed data read in place (tensors are mmapped, so not necessarily 4-byte aligned). */
inline uint32_t LoadWord(const uint8_t* base, int64_t index) {
  uint32_t w;
  std::memcpy(&w, base + 4 * index, 4);
  return w;
}
inline uint32_t LoadWord(const uint32_t* base, int64_t index) { return base[index]; }

/** ORs `value` (< 2^bits) into slot k of a bit stream: value k occupies bits [k·bits, (k+1)·bits), crossing
 *  into the next word when it must (GPTQ's 3-bit layout: 32 values in 3 words). `stride` is the distance
 *  between consecutive words of the stream (1 when contiguous, the row length when packing a column). */
inline void PutBits(uint32_t* words, int64_t stride, int64_t k, int bits, uint32_t value) {
  const int64_t bit = k * bits;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  words[word * stride] |= value << shift;
  if (shift + bits > 32) words[(word + 1) * stride] |= value >> (32 - shift);
}

/** Slot k of a bit stream; `words` is uint32_t words or the raw bytes of a tensor of them. */
template <class Word>
inline uint32_t GetBits(const Word* words, int64_t stride, int64_t k, int bits) {
  const int64_t bit = k * bits;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  uint32_t v = LoadWord(words, word * stride) >> shift;
  if (shift + bits > 32) v |= LoadWord(words, (word + 1) * stride) << (32 - shift);
  return v & ((1u << bits) - 1u);
}

/** A word whose every `bits`-wide slot holds 1: GPTQ v1 stores packed(zeros) minus it, word by word. */
inline uint32_t OnesWord(int bits) {
  uint32_t w = 0;
  for (int k = 0; k * bits < 32; ++k) w |= 1u << (k * bits);
  return w;
}

/** Nibble i (bits 4i..4i+3) of a word. */
inline uint32_t Nibble(uint32_t word, int i) { return (word >> (4 * i)) & 0xfu; }

/** AWQ GEMM words: nibble i holds output kAwqOrder[i] of the word's 8; output o sits in nibble kAwqNibbleOf[o]. */
constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
constexpr int kAwqNibbleOf[8] = {0, 4, 1, 5, 2, 6, 3, 7};

}  // namespace quantstudio
