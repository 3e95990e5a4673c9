// GPTQ v1 unpacker: bits and group_size as a config could state them, then qweight, qzeros, scales and
// g_idx with fuzzed dtypes, shapes and bytes.
#include "formats/gptq.h"
#include "fuzz_checks.h"
#include "fuzz_tensors.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const int bits = static_cast<int8_t>(in.Byte());
  const int64_t groupSize = in.Int32();
  formats::TensorSet set;
  for (const char* name : {"qweight", "qzeros", "scales", "g_idx"}) {
    if (!in.Tensor(std::string("layer.") + name, set)) return 0;
  }
  std::vector<io::TensorView> storage;
  try {
    fuzz::CheckGroupQuantized(formats::UnpackGptq(formats::LookupIn(set, storage), "layer", bits, groupSize));
  } catch (const formats::FormatError&) {
  }
  return 0;
}
