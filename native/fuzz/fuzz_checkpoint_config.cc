// The quantization_config writers: every option a job may pass, from the input (doubles as raw bits, so
// NaN and infinities too). Whatever they write must be JSON that reads back to the same text.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "formats/checkpoint_config.h"
#include "formats/tensor_set.h"
#include "fuzz_tensors.h"

using namespace quantstudio;

namespace {

double Double(fuzz::Reader& in) {
  const uint64_t bits =
      static_cast<uint32_t>(in.Int32()) | (static_cast<uint64_t>(static_cast<uint32_t>(in.Int32())) << 32);
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

void CheckRoundTrip(const json::Value& config) {
  const std::string text = config.Dump();
  try {
    if (json::Parse(text).Dump() != text || json::Parse(config.Dump(2)).Dump() != text) {
      std::fprintf(stderr, "config does not round-trip: %s\n", text.c_str());
      std::abort();
    }
  } catch (const json::ParseError& e) {
    std::fprintf(stderr, "config is not JSON (%s): %s\n", e.what(), text.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  try {
    formats::GptqConfigOptions gptq;
    gptq.bits = in.Int32();
    gptq.groupSize = in.Int32();
    const uint8_t flags = in.Byte();
    gptq.descAct = flags & 1, gptq.sym = flags & 2, gptq.trueSequential = flags & 4, gptq.staticGroups = flags & 8;
    gptq.dampPercent = Double(in);
    CheckRoundTrip(formats::GptqQuantizationConfig(gptq));
    CheckRoundTrip(formats::GptqQuantizeConfigFile(gptq));

    formats::AwqConfigOptions awq;
    awq.bits = in.Int32();
    awq.groupSize = in.Int32();
    awq.zeroPoint = flags & 16;
    awq.version = flags & 32 ? formats::AwqVersion::Gemv : formats::AwqVersion::Gemm;
    CheckRoundTrip(formats::AwqQuantizationConfig(awq));
    CheckRoundTrip(formats::AwqQuantConfigFile(awq));

    formats::BnbConfigOptions bnb;
    bnb.load4bit = flags & 64;
    bnb.doubleQuant = flags & 128;
    bnb.quantType = in.Byte() % 2 ? quant::Bnb4Type::FP4 : quant::Bnb4Type::NF4;
    bnb.computeDtype = fuzz::kDTypes[in.Byte() % fuzz::kDTypeCount];
    bnb.int8Threshold = Double(in);
    CheckRoundTrip(formats::BnbQuantizationConfig(bnb));
  } catch (const formats::FormatError&) {
  }
  return 0;
}
