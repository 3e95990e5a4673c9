// What every quantizer and format routine shares: the weight matrix it reads, cancellation and
// progress, and the errors a user can act on.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/cancel.h"

namespace quantstudio::quant {

/** A row-major fp32 matrix [rows × cols] (Hugging Face Linear: rows = out_features, cols = in_features). */
struct WeightMatrix {
  std::string name;  // the tensor name, for error messages
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

/** Bad input: the message names the tensor, the problem and what to change. */
struct QuantError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Thrown when the cancel flag was raised; the binding turns it into a 'cancelled' rejection. */
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

/** Cancellation and progress, both optional. The cancel flag is the word of core/cancel.h; quantizers
 *  check it per block or row. */
struct JobContext {
  const int32_t* cancel = nullptr;
  std::function<void(int64_t done, int64_t total)> progress;

  bool IsCancelled() const { return CancelRaised(cancel); }
  void CheckCancelled() const {
    if (IsCancelled()) throw Cancelled();
  }
  void Report(int64_t done, int64_t total) const {
    if (progress) progress(done, total);
  }
};

/** Rejects NaN/Inf weights, naming the tensor and the first bad element. */
inline void CheckFinite(const WeightMatrix& w) {
  const int64_t n = w.rows * w.cols;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(w.data[i])) {
      throw QuantError("tensor \"" + w.name + "\": element [" + std::to_string(i / w.cols) + ", " +
                       std::to_string(i % w.cols) + "] is " + (std::isnan(w.data[i]) ? "NaN" : "Inf") +
                       "; the weights are corrupt, quantize a finite checkpoint");
    }
  }
}

}  // namespace quantstudio::quant
