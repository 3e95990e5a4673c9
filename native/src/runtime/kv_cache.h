// Keys and values of every layer for the positions seen so far: [layer][kvHead][capacity][headDim], fp32.
#pragma once

#include <cstdint>
#include <vector>

namespace quantstudio::runtime {

class KvCache {
 public:
  KvCache(int64_t layers, int64_t kvHeads, int64_t headDim, int64_t capacity)
      : kvHeads_(kvHeads),
        headDim_(headDim),
        capacity_(capacity),
        keys_(static_cast<size_t>(layers * kvHeads * capacity * headDim)),
        values_(keys_.size()) {}

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  void Clear() { length_ = 0; }
  /** Called by the model once every layer has stored the new positions. */
  void Advance(int64_t count) { length_ += count; }

  float* keys(int64_t layer) { return keys_.data() + LayerOffset(layer); }
  float* values(int64_t layer) { return values_.data() + LayerOffset(layer); }

  /** Stores token rows [m, kvHeads*headDim] of k and v at positions length() .. length()+m-1. */
  void Store(int64_t layer, const float* k, const float* v, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t h = 0; h < kvHeads_; ++h) {
        const size_t dst = LayerOffset(layer) + static_cast<size_t>((h * capacity_ + length_ + i) * headDim_);
        const size_t src = static_cast<size_t>(i * kvHeads_ * headDim_ + h * headDim_);
        for (int64_t d = 0; d < headDim_; ++d) {
          keys_[dst + d] = k[src + d];
          values_[dst + d] = v[src + d];
        }
      }
    }
  }

 private:
  size_t LayerOffset(int64_t layer) const { return static_cast<size_t>(layer * kvHeads_ * capacity_ * headDim_); }

  int64_t kvHeads_, headDim_, capacity_;
  int64_t length_ = 0;
  std::vector<float> keys_, values_;
};

}  // namespace quantstudio::runtime
