// The fuzz input encoding the unpacker harnesses share: a few parameter bytes, then tensors whose dtype,
// shape and bytes all come from the input, so the unpackers see every shape a checkpoint could declare.
// A tensor is: tag (0 = absent, else dtype index + 1), rank (byte % 5), each dim as u16 LE (values from
// 0x8000 on are 2^k + {-1, 0, +1}, k = v & 63, reaching the int64 edges), then numel × size data bytes
// (zeros once the input runs out). Shapes whose byte count overflows or exceeds kMaxTensorBytes are
// refused: the safetensors reader rejects the first, the second only keeps the fuzzer fast.
// `Encode*` writes the same encoding, for the seed corpus.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/tensor_set.h"

namespace quantstudio::fuzz {

constexpr size_t kMaxTensorBytes = 1 << 20;
constexpr DType kDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8, DType::I32, DType::I64};
constexpr int kDTypeCount = sizeof(kDTypes) / sizeof(kDTypes[0]);

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  uint8_t Byte() { return p_ < end_ ? *p_++ : 0; }
  int32_t Int32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(Byte()) << (8 * i);
    return static_cast<int32_t>(v);
  }
  /** Up to n bytes of the input. */
  std::string Bytes(size_t n) {
    const size_t take = std::min(n, static_cast<size_t>(end_ - p_));
    std::string s(reinterpret_cast<const char*>(p_), take);
    p_ += take;
    return s;
  }
  /** Reads one tensor into `set` under `name` (absent: nothing added). False when the shape is refused. */
  bool Tensor(const std::string& name, std::vector<formats::OwnedTensor>& set) {
    const uint8_t tag = Byte();
    if (tag == 0) return true;
    formats::OwnedTensor t{name, kDTypes[(tag - 1) % kDTypeCount], {}, {}};
    const int rank = Byte() % 5;
    // The element count as the safetensors reader computes it (its overflow rule included).
    int64_t numel = 1;
    for (int i = 0; i < rank; ++i) {
      const uint16_t v = static_cast<uint16_t>(Byte() | (Byte() << 8));
      int64_t d = v;
      if (v >= 0x8000) {
        const int k = v & 63;
        const int delta = static_cast<int>((v >> 6) % 3) - 1;
        d = k == 63 ? INT64_MAX : (int64_t{1} << k) + delta;
        if (d < 0) d = 0;
      }
      t.shape.push_back(d);
      if (d != 0 && numel > INT64_MAX / d) return false;
      numel *= d;
    }
    if (static_cast<uint64_t>(numel) > kMaxTensorBytes / DTypeSize(t.dtype)) return false;
    t.bytes.assign(static_cast<size_t>(numel) * DTypeSize(t.dtype), 0);
    const std::string data = Bytes(t.bytes.size());
    if (!data.empty()) std::memcpy(t.bytes.data(), data.data(), data.size());
    set.push_back(std::move(t));
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

inline void EncodeByte(std::string& out, uint8_t b) { out.push_back(static_cast<char>(b)); }
inline void EncodeInt32(std::string& out, int32_t v) {
  for (int i = 0; i < 4; ++i) EncodeByte(out, static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * i)));
}
/** Writes t as Reader::Tensor reads it; dims must be below 0x8000 (seeds are small real layers). */
inline void EncodeTensor(std::string& out, const formats::OwnedTensor* t) {
  if (t == nullptr) return EncodeByte(out, 0);
  int index = 0;
  while (kDTypes[index] != t->dtype) ++index;
  EncodeByte(out, static_cast<uint8_t>(index + 1));
  EncodeByte(out, static_cast<uint8_t>(t->shape.size()));
  for (int64_t d : t->shape) {
    EncodeByte(out, static_cast<uint8_t>(d & 0xff));
    EncodeByte(out, static_cast<uint8_t>((d >> 8) & 0x7f));
  }
  out.append(reinterpret_cast<const char*>(t->bytes.data()), t->bytes.size());
}

/** The tensor named `name` in a packed set, or nullptr. */
inline const formats::OwnedTensor* Named(const formats::TensorSet& set, const std::string& name) {
  for (const formats::OwnedTensor& t : set) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace quantstudio::fuzz
