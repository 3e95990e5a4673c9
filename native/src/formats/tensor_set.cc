#include "formats/tensor_set.h"

#include <cstring>

namespace quantstudio::formats {

OwnedTensor MakeF16Tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values) {
  std::vector<uint16_t> half(values.size());
  for (size_t i = 0; i < values.size(); ++i) half[i] = F32ToF16(values[i]);
  return MakeTensor(std::move(name), DType::F16, std::move(shape), half);
}

TensorLookup LookupIn(const io::SafetensorsFile& file) {
  return [&file](const std::string& name) { return file.Find(name); };
}

TensorLookup LookupIn(const io::ModelWeights& weights) {
  return [&weights](const std::string& name) { return weights.Find(name); };
}

TensorLookup LookupIn(const TensorSet& set, std::vector<io::TensorView>& storage) {
  storage.clear();
  storage.reserve(set.size());
  for (const OwnedTensor& t : set) storage.push_back({t.name, t.dtype, t.shape, t.bytes.data(), t.bytes.size()});
  return [&storage](const std::string& name) -> const io::TensorView* {
    for (const io::TensorView& v : storage) {
      if (v.name == name) return &v;
    }
    return nullptr;
  };
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const io::TensorView& Require(const TensorLookup& lookup, const std::string& name, DType dtype,
                              const std::vector<int64_t>* shape) {
  const io::TensorView* t = lookup(name);
  if (t == nullptr) throw FormatError("tensor \"" + name + "\" is missing from the checkpoint");
  if (t->dtype != dtype) {
    throw FormatError("tensor \"" + name + "\" is " + DTypeName(t->dtype) + " but the format stores it as " +
                      DTypeName(dtype));
  }
  if (shape != nullptr && t->shape != *shape) {
    throw FormatError("tensor \"" + name + "\" has shape " + ShapeString(t->shape) + " but " + ShapeString(*shape) +
                      " was expected from the quantization config");
  }
  return *t;
}

const io::TensorView& RequireScales(const TensorLookup& lookup, const std::string& name,
                                    const std::vector<int64_t>* shape) {
  const io::TensorView* t = lookup(name);
  if (t == nullptr) throw FormatError("tensor \"" + name + "\" is missing from the checkpoint");
  if (t->dtype != DType::F16 && t->dtype != DType::BF16 && t->dtype != DType::F32) {
    throw FormatError("tensor \"" + name + "\" is " + DTypeName(t->dtype) +
                      " but scales are stored as F16, BF16 or F32");
  }
  return Require(lookup, name, t->dtype, shape);
}

void ReadFloats(const io::TensorView& t, int64_t first, int64_t count, float* dst) {
  if (t.dtype == DType::F32) {
    std::memcpy(dst, t.data + 4 * first, static_cast<size_t>(4 * count));
  } else if (t.dtype == DType::F16) {
    F16ToF32(t.data + 2 * first, count, dst);
  } else if (t.dtype == DType::BF16) {
    for (int64_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * (first + i), 2);
      dst[i] = Bf16ToF32(h);
    }
  } else {
    throw FormatError("tensor \"" + t.name + "\" is " + DTypeName(t.dtype) + ", not a float tensor");
  }
}

std::vector<float> ReadFloats(const io::TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  ReadFloats(t, 0, t.numel(), out.data());
  return out;
}

}  // namespace quantstudio::formats
