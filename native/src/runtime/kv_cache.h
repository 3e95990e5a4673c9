// Keys and values of every layer for the positions seen so far: [layer][kvHead][capacity][headDim], fp32 (the
// default: outputs held to transformers' fp32 within 1e-4) or fp16 (half the bytes each decode step reads, as
// llama.cpp's default cache and transformers' fp16 models keep them; products and sums stay fp32).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/dtype.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"

namespace quantstudio::runtime {

class KvCache {
 public:
  KvCache(int64_t layers, int64_t kvHeads, int64_t headDim, int64_t capacity, DType dtype = DType::F32)
      : dtype_(dtype),
        kvHeads_(kvHeads),
        headDim_(headDim),
        capacity_(capacity),
        keys_(static_cast<size_t>(layers * kvHeads * capacity * headDim) * DTypeSize(dtype)),
        values_(keys_.size()) {
    if (dtype != DType::F32 && dtype != DType::F16) throw std::invalid_argument("KV cache: fp32 or fp16 only");
  }

  DType dtype() const { return dtype_; }
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  void Clear() { length_ = 0; }
  /** Called by the model once every layer has stored the new positions. */
  void Advance(int64_t count) { length_ += count; }

  /** One layer's keys and values, as the attention kernels read them. */
  kernels::KvRows Layer(int64_t layer) const {
    return {dtype_, keys_.data() + LayerOffset(layer), values_.data() + LayerOffset(layer)};
  }

  /** Stores token rows [m, kvHeads*headDim] of k and v at positions length() .. length()+m-1 (fp16: rounded to
   *  nearest even, as torch's .half()). */
  void Store(int64_t layer, const float* k, const float* v, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t h = 0; h < kvHeads_; ++h) {
        const size_t dst = LayerOffset(layer) + ElementOffset(h * capacity_ + length_ + i);
        const size_t src = static_cast<size_t>(i * kvHeads_ * headDim_ + h * headDim_);
        StoreRow(k + src, keys_.data() + dst);
        StoreRow(v + src, values_.data() + dst);
      }
    }
  }

 private:
  size_t ElementOffset(int64_t row) const { return static_cast<size_t>(row * headDim_) * DTypeSize(dtype_); }
  size_t LayerOffset(int64_t layer) const { return ElementOffset(layer * kvHeads_ * capacity_); }

  void StoreRow(const float* src, uint8_t* dst) const {
    if (dtype_ == DType::F32) {
      std::memcpy(dst, src, static_cast<size_t>(headDim_) * sizeof(float));
      return;
    }
    kernels::NarrowToF16(src, headDim_, reinterpret_cast<uint16_t*>(dst));  // rows are 2-byte aligned
  }

  DType dtype_;
  int64_t kvHeads_, headDim_, capacity_;
  int64_t length_ = 0;
  std::vector<uint8_t> keys_, values_;
};

}  // namespace quantstudio::runtime
