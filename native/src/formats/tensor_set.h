// The tensors one quantized layer turns into, owned, ready for WriteSafetensors; and the typed
// lookups the unpackers use to read them back from any source (a file, a model folder, a test).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/safetensors.h"

namespace quantstudio::formats {

/** A packed tensor is missing, or has the wrong dtype or shape; the message names it. */
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OwnedTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  io::TensorSpec Spec() const { return {name, dtype, shape, bytes.data(), bytes.size()}; }
};

using TensorSet = std::vector<OwnedTensor>;

template <typename T>
OwnedTensor MakeTensor(std::string name, DType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  OwnedTensor t{std::move(name), dtype, std::move(shape), {}};
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

/** fp32 values stored as F16 (round to nearest even). */
OwnedTensor MakeF16Tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values);

/** Finds a tensor by full name; nullptr when absent. */
using TensorLookup = std::function<const io::TensorView*(const std::string&)>;

TensorLookup LookupIn(const io::SafetensorsFile& file);
TensorLookup LookupIn(const io::ModelWeights& weights);
TensorLookup LookupIn(const TensorSet& set, std::vector<io::TensorView>& storage);

/** The tensor, checked for dtype and (when given) shape; FormatError naming it otherwise. */
const io::TensorView& Require(const TensorLookup& lookup, const std::string& name, DType dtype,
                              const std::vector<int64_t>* shape = nullptr);

/** A scales tensor: fp16 as AutoGPTQ and AutoAWQ write it, or bf16 / fp32 as GPTQModel 7.x writes it from a
 *  model in that dtype; FormatError naming it otherwise. Shape checked when given. */
const io::TensorView& RequireScales(const TensorLookup& lookup, const std::string& name,
                                    const std::vector<int64_t>* shape = nullptr);

template <typename T>
std::vector<T> CopyOut(const io::TensorView& t) {
  std::vector<T> out(t.nbytes / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.data, t.nbytes);
  return out;
}

/** F16, BF16 or F32 tensor data as fp32. */
std::vector<float> ReadFloats(const io::TensorView& t);

/** Elements [first, first + count) of ReadFloats(t) into dst: a caller may widen a large tensor in parallel chunks. */
void ReadFloats(const io::TensorView& t, int64_t first, int64_t count, float* dst);

std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace quantstudio::formats
