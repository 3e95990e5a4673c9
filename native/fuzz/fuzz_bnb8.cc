// bitsandbytes LLM.int8 unpacker: weight, weight_format and SCB with fuzzed dtypes, shapes and bytes.
#include <cstdio>
#include <cstdlib>

#include "formats/bnb.h"
#include "fuzz_tensors.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  formats::TensorSet set;
  for (const char* name : {".weight", ".weight_format", ".SCB"}) {
    if (!in.Tensor(std::string("layer") + name, set)) return 0;
  }
  std::vector<io::TensorView> storage;
  try {
    const quant::Int8Quantized q = formats::UnpackBnb8(formats::LookupIn(set, storage), "layer");
    if (q.rows < 0 || q.cols < 0 || q.q.size() != static_cast<size_t>(q.rows * q.cols) ||
        q.scb.size() != static_cast<size_t>(q.rows)) {
      std::fprintf(stderr, "unpacked int8 layer has inconsistent sizes\n");
      std::abort();
    }
  } catch (const formats::FormatError&) {
  }
  return 0;
}
