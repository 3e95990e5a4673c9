// Writes the seed corpus (native/fuzz/corpus/<harness>/): layer 0's k_proj of the repo's quantized fixtures
// (checkpoints written by this engine and by the upstream libraries) in the unpacker harnesses' encoding,
// small packed layers covering each bit width and layout, small safetensors files, index and config JSON.
// Usage: make_seeds <test/fixtures> <corpus dir>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "formats/awq.h"
#include "formats/bnb.h"
#include "formats/gptq.h"
#include "fuzz_tensors.h"
#include "io/safetensors.h"

using namespace quantstudio;

namespace {

std::string fixtures, corpus;
const std::string kLayer = "model.layers.0.self_attn.k_proj";

void Write(const std::string& harness, const std::string& name, const std::string& bytes) {
  std::ofstream out(corpus + "/" + harness + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write seed " + harness + "/" + name);
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** The fixture's tensors `kLayer + suffix` renamed to `layer + suffix`, as the harnesses name them. */
formats::TensorSet FixtureLayer(const std::string& checkpoint, const std::vector<std::string>& suffixes) {
  const auto file = io::SafetensorsFile::Open(fixtures + "/" + checkpoint + "/model.safetensors");
  formats::TensorSet set;
  for (const std::string& s : suffixes) {
    if (const io::TensorView* t = file->Find(kLayer + s)) {
      set.push_back({"layer" + s, t->dtype, t->shape, std::vector<uint8_t>(t->data, t->data + t->nbytes)});
    }
  }
  return set;
}

std::string EncodeAll(std::string head, const formats::TensorSet& set, const std::vector<std::string>& suffixes) {
  for (const std::string& s : suffixes) fuzz::EncodeTensor(head, fuzz::Named(set, "layer" + s));
  return head;
}

quant::GroupQuantized Layer(int64_t rows, int64_t cols, int bits, int64_t groupSize, bool actOrder) {
  quant::GroupQuantized q;
  q.rows = rows, q.cols = cols, q.bits = bits, q.groupSize = groupSize > 0 ? groupSize : cols;
  const int64_t groups = q.numGroups();
  for (int64_t i = 0; i < rows * cols; ++i) q.q.push_back(static_cast<uint8_t>((i * 7 + 3) % (1 << bits)));
  for (int64_t i = 0; i < groups * rows; ++i) {
    q.zeros.push_back(static_cast<int32_t>(i % (1 << bits)));
    q.scales.push_back(0.01f * static_cast<float>(i % 5 + 1));
  }
  for (int64_t c = 0; c < cols; ++c)
    q.gIdx.push_back(static_cast<int32_t>((actOrder ? (c * 5) % cols : c) / q.groupSize));
  return q;
}

const std::vector<std::string> kGptq{".qweight", ".qzeros", ".scales", ".g_idx"};
const std::vector<std::string> kAwq{".qweight", ".qzeros", ".scales"};
const std::vector<std::string> kBnb4{".weight", ".weight.absmax", ".weight.quant_map", ".weight.nested_absmax",
                                     ".weight.nested_quant_map"};
const std::vector<std::string> kBnb8{".weight", ".weight_format", ".SCB"};
const std::vector<std::string> kCt{".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point",
                                   ".weight_g_idx"};

std::string GptqHead(int bits, int32_t groupSize) {
  std::string head;
  fuzz::EncodeByte(head, static_cast<uint8_t>(bits));
  fuzz::EncodeInt32(head, groupSize);
  return head;
}

std::string AwqHead(formats::AwqVersion v, int32_t groupSize) {
  std::string head;
  fuzz::EncodeByte(head, v == formats::AwqVersion::Gemm ? 0 : 1);
  fuzz::EncodeInt32(head, groupSize);
  return head;
}

/** The bnb4 harness's encoding: quant-state type and JSON first, then the tensors. */
std::string Bnb4Seed(const formats::TensorSet& set) {
  std::string head;
  for (const formats::OwnedTensor& t : set) {
    if (t.name.find(".quant_state.bitsandbytes__") == std::string::npos) continue;
    fuzz::EncodeByte(head, t.name.substr(t.name.size() - 3) == "fp4" ? 1 : 0);
    fuzz::EncodeByte(head, static_cast<uint8_t>(t.bytes.size() & 0xff));
    fuzz::EncodeByte(head, static_cast<uint8_t>(t.bytes.size() >> 8));
    head.append(t.bytes.begin(), t.bytes.end());
  }
  return EncodeAll(head, set, kBnb4);
}

quant::Bnb4Quantized Bnb4Layer(quant::Bnb4Type type, bool nested) {
  quant::Bnb4Quantized q;
  q.type = type, q.blocksize = 64, q.shape = {16, 16}, q.code = quant::Bnb4Code(type);
  for (int i = 0; i < 128; ++i) q.packed.push_back(static_cast<uint8_t>(i * 37));
  if (!nested) {
    q.absmax = {0.5f, 1.0f, 1.5f, 2.0f};
    return q;
  }
  q.nested = true, q.nestedBlocksize = 256, q.nestedCode = quant::DynamicMap8(), q.offset = 1.25f;
  q.absmaxCodes = {3, 100, 200, 255};
  q.nestedAbsmax = {0.75f};
  return q;
}

void SafetensorsSeeds() {
  // Fixture files small enough to keep whole, headers as the engine and the reference writer wrote them.
  Write("safetensors", "llama-linear-golden-logits", Read(fixtures + "/llama-linear-random/golden_logits.safetensors"));
  Write("safetensors", "model-aware-awq-g32", Read(fixtures + "/model-aware/awq-g32/model.safetensors"));
  const std::string dir = corpus + "/safetensors";
  const float f[6] = {1, 2, 3, 4, 5, 6};
  const int8_t i8[4] = {-1, 2, -3, 4};
  io::WriteSafetensors(dir + "/small-with-metadata",
                       {{"w", DType::F32, {2, 3}, f, sizeof f}, {"q", DType::I8, {4}, i8, sizeof i8}},
                       {{"format", "pt"}});
  io::WriteSafetensors(dir + "/scalar-and-empty", {{"s", DType::F16, {}, f, 2}, {"e", DType::BF16, {0, 3}, f, 0}}, {});
}

void JsonSeeds() {
  Write("json", "config-awq", Read(fixtures + "/model-aware/awq-g32/config.json"));
  Write("json", "config-bnb-nf4", Read(fixtures + "/upstream-written/bnb-nf4-double-quant/config.json"));
  Write("json", "quantize-config-gptq", Read(fixtures + "/upstream-written/gptq-4bit-g128/quantize_config.json"));
  Write("json", "escapes-and-numbers",
        R"({"a":"\u00e9\ud83d\ude00\n\"","n":[-0,1e308,-1.5E-7,12345678901234567890],"t":true,"f":false,"z":null})");
}

void IndexSeeds() {
  Write("index", "sharded-qwen2", Read(fixtures + "/hub/sharded-qwen2/model.safetensors.index.json"));
  Write("index", "two-shards",
        R"({"metadata":{"total_size":36},"weight_map":{"a.weight":"model-00001-of-00002.safetensors",)"
        R"("b.weight":"model-00001-of-00002.safetensors","c.weight":"model-00002-of-00002.safetensors"}})");
}

void ConfigSeeds() {
  auto seed = [](int32_t bits, int32_t groupSize, uint8_t flags, double damp, int32_t awqBits, double threshold) {
    std::string s;
    fuzz::EncodeInt32(s, bits);
    fuzz::EncodeInt32(s, groupSize);
    fuzz::EncodeByte(s, flags);
    uint64_t raw;
    std::memcpy(&raw, &damp, 8);
    fuzz::EncodeInt32(s, static_cast<int32_t>(raw)), fuzz::EncodeInt32(s, static_cast<int32_t>(raw >> 32));
    fuzz::EncodeInt32(s, awqBits);
    fuzz::EncodeInt32(s, groupSize);
    fuzz::EncodeByte(s, flags & 1), fuzz::EncodeByte(s, 1);
    std::memcpy(&raw, &threshold, 8);
    fuzz::EncodeInt32(s, static_cast<int32_t>(raw)), fuzz::EncodeInt32(s, static_cast<int32_t>(raw >> 32));
    return s;
  };
  Write("checkpoint_config", "defaults", seed(4, 128, 0x56, 0.1, 4, 6.0));
  Write("checkpoint_config", "per-channel-desc-act", seed(8, -1, 0xa9, 0.01, 4, 0.0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds <test/fixtures> <corpus dir>\n");
    return 2;
  }
  fixtures = argv[1], corpus = argv[2];
  Write("gptq", "fixture-gptq-8bit-g32",
        EncodeAll(GptqHead(8, 32), FixtureLayer("model-aware/gptq-8bit-g32", kGptq), kGptq));
  Write("gptq", "upstream-gptq-4bit-g128",
        EncodeAll(GptqHead(4, 128), FixtureLayer("upstream-written/gptq-4bit-g128", kGptq), kGptq));
  Write("gptq", "upstream-gptq-4bit-g128-desc-act",
        EncodeAll(GptqHead(4, 128), FixtureLayer("upstream-written/gptq-4bit-g128-desc-act", kGptq), kGptq));
  for (int bits : {2, 3, 4, 8}) {
    const auto set = formats::PackGptq("layer", Layer(32, 64, bits, 16, bits == 3));
    Write("gptq", "packed-" + std::to_string(bits) + "bit-g16", EncodeAll(GptqHead(bits, 16), set, kGptq));
  }
  Write("gptq", "packed-4bit-per-channel",
        EncodeAll(GptqHead(4, -1), formats::PackGptq("layer", Layer(8, 32, 4, -1, false)), kGptq));

  Write("awq", "fixture-awq-gemm-g32",
        EncodeAll(AwqHead(formats::AwqVersion::Gemm, 32), FixtureLayer("model-aware/awq-g32", kAwq), kAwq));
  for (auto v : {formats::AwqVersion::Gemm, formats::AwqVersion::Gemv}) {
    for (int32_t g : {32, 64, 128}) {
      const auto set = formats::PackAwq("layer", Layer(16, 128, 4, g, false), v);
      Write("awq", std::string("packed-") + formats::AwqVersionName(v) + "-g" + std::to_string(g),
            EncodeAll(AwqHead(v, g), set, kAwq));
    }
  }

  Write("bnb4", "fixture-nf4",
        Bnb4Seed(FixtureLayer("model-aware/bnb-nf4", {".weight", ".weight.absmax", ".weight.quant_map",
                                                      ".weight.quant_state.bitsandbytes__nf4"})));
  Write("bnb4", "upstream-nf4-double-quant",
        Bnb4Seed(FixtureLayer("upstream-written/bnb-nf4-double-quant",
                              {".weight", ".weight.absmax", ".weight.quant_map", ".weight.nested_absmax",
                               ".weight.nested_quant_map", ".weight.quant_state.bitsandbytes__nf4"})));
  for (auto type : {quant::Bnb4Type::NF4, quant::Bnb4Type::FP4}) {
    for (bool nested : {false, true}) {
      Write("bnb4", std::string("packed-") + quant::Bnb4TypeName(type) + (nested ? "-nested" : ""),
            Bnb4Seed(formats::PackBnb4("layer", Bnb4Layer(type, nested), DType::F16)));
    }
  }

  Write("bnb8", "fixture-int8", EncodeAll("", FixtureLayer("model-aware/bnb-int8", kBnb8), kBnb8));
  quant::Int8Quantized q8;
  q8.rows = 4, q8.cols = 8, q8.q.assign(32, -5), q8.scb = {1, 2, 3, 4};
  Write("bnb8", "packed-4x8", EncodeAll("", formats::PackBnb8("layer", q8), kBnb8));

  for (const char* name :
       {"llmcompressor-w4a16", "llmcompressor-w4a16-asym", "llmcompressor-w4a16-channel", "llmcompressor-w8a16"}) {
    Write("ct", std::string("upstream-") + name,
          EncodeAll("", FixtureLayer(std::string("upstream-written/") + name, kCt), kCt));
  }

  SafetensorsSeeds();
  JsonSeeds();
  IndexSeeds();
  ConfigSeeds();
  return 0;
}
