// bitsandbytes 4-bit unpacker: the quant_state JSON (its tensor name picks nf4 or fp4) and the weight,
// absmax, quant_map and nested tensors with fuzzed dtypes, shapes and bytes; then the dequantization a
// loader runs on the result.
#include <cstdio>
#include <cstdlib>

#include "formats/bnb.h"
#include "fuzz_tensors.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const bool fp4 = in.Byte() % 2 == 1;
  const size_t stateBytes = in.Byte() | (in.Byte() << 8);
  const std::string state = in.Bytes(stateBytes);
  formats::TensorSet set;
  set.push_back({std::string("layer.weight.quant_state.bitsandbytes__") + (fp4 ? "fp4" : "nf4"),
                 DType::U8,
                 {static_cast<int64_t>(state.size())},
                 std::vector<uint8_t>(state.begin(), state.end())});
  for (const char* name : {"", ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map"}) {
    if (!in.Tensor(std::string("layer.weight") + name, set)) return 0;
  }
  std::vector<io::TensorView> storage;
  quant::Bnb4Quantized q;
  try {
    q = formats::UnpackBnb4(formats::LookupIn(set, storage), "layer");
  } catch (const formats::FormatError&) {
    return 0;
  }
  const int64_t n = q.numel();
  const int64_t blocks = (n + q.blocksize - 1) / q.blocksize;
  if (q.packed.size() != static_cast<size_t>((n + 1) / 2) || q.BlockAbsmax().size() != static_cast<size_t>(blocks) ||
      q.Dequantize().size() != static_cast<size_t>(n)) {
    std::fprintf(stderr, "unpacked 4-bit layer has inconsistent sizes\n");
    std::abort();
  }
  return 0;
}
