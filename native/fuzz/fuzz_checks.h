// What the runtime relies on in an unpacked layer: every size consistent with rows × cols and the
// group count, every index in range, every code and zero point inside its bit width. A violation is a
// bug in the unpacker that validated the tensors, so it aborts (the fuzzer reports it as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "quant/group_quant.h"

namespace quantstudio::fuzz {

[[noreturn]] inline void Broken(const char* what) {
  std::fprintf(stderr, "unpacked layer breaks an invariant: %s\n", what);
  std::abort();
}

#define FUZZ_EXPECT(cond) \
  if (!(cond)) ::quantstudio::fuzz::Broken(#cond)

inline void CheckGroupQuantized(const quant::GroupQuantized& q) {
  FUZZ_EXPECT(q.rows >= 0 && q.cols >= 0);
  FUZZ_EXPECT(q.groupSize > 0 || q.cols == 0);
  const int64_t groups = q.numGroups();
  FUZZ_EXPECT(q.q.size() == static_cast<size_t>(q.rows * q.cols));
  FUZZ_EXPECT(q.gIdx.size() == static_cast<size_t>(q.cols));
  FUZZ_EXPECT(q.scales.size() == static_cast<size_t>(groups * q.rows));
  FUZZ_EXPECT(q.zeros.size() == static_cast<size_t>(groups * q.rows));
  const int32_t levels = 1 << q.bits;
  for (int32_t g : q.gIdx) FUZZ_EXPECT(g >= 0 && g < groups);
  for (uint8_t v : q.q) FUZZ_EXPECT(v < levels);
  for (int32_t z : q.zeros) FUZZ_EXPECT(z >= 0 && z < levels);
  volatile float sink = 0.0f;
  for (int64_t r = 0; r < q.rows; ++r) {
    for (int64_t c = 0; c < q.cols; ++c) sink = sink + q.Dequantize(r, c);
  }
}

}  // namespace quantstudio::fuzz
