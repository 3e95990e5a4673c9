// compressed-tensors pack-quantized reader and kernel: weight_packed, weight_scale, weight_shape, weight_zero_point
// and weight_g_idx with fuzzed dtypes, shapes and bytes; what ReadCtPacked accepts, the kernel reads whole (every
// weight, so every code, scale and zero point it addresses), under the sanitizers.
#include <cmath>

#include "formats/compressed_tensors.h"
#include "fuzz_checks.h"
#include "fuzz_tensors.h"
#include "kernels/qmatmul_ct.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  formats::TensorSet set;
  for (const char* name : {"weight_packed", "weight_scale", "weight_shape", "weight_zero_point", "weight_g_idx"}) {
    if (!in.Tensor(std::string("layer.") + name, set)) return 0;
  }
  std::vector<io::TensorView> storage;
  CtPacked t{};
  try {
    t = formats::ReadCtPacked(formats::LookupIn(set, storage), "layer");
  } catch (const formats::FormatError&) {
    return 0;
  }
  FUZZ_EXPECT(t.bits == 4 || t.bits == 8);
  FUZZ_EXPECT(t.in > 0 && t.out > 0 && t.groups > 0 && t.in % t.groups == 0);
  const auto matrix = kernels::MakeCtPackedMatrix(t);
  FUZZ_EXPECT(matrix->rows() == t.out && matrix->cols() == t.in);
  volatile float sink = 0.0f;
  for (int64_t r = 0; r < t.out; ++r)
    for (int64_t c = 0; c < t.in; ++c) sink = sink + matrix->Weight(r, c);
  return 0;
}
