// AWQ unpacker, GEMM and GEMV: the version and group_size as a config could state them, then qweight,
// qzeros and scales with fuzzed dtypes, shapes and bytes.
#include "formats/awq.h"
#include "fuzz_checks.h"
#include "fuzz_tensors.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const formats::AwqVersion version = in.Byte() % 2 == 0 ? formats::AwqVersion::Gemm : formats::AwqVersion::Gemv;
  const int64_t groupSize = in.Int32();
  formats::TensorSet set;
  for (const char* name : {"qweight", "qzeros", "scales"}) {
    if (!in.Tensor(std::string("layer.") + name, set)) return 0;
  }
  std::vector<io::TensorView> storage;
  try {
    fuzz::CheckGroupQuantized(formats::UnpackAwq(formats::LookupIn(set, storage), "layer", groupSize, version));
  } catch (const formats::FormatError&) {
  }
  return 0;
}
