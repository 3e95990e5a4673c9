// Checkpoint formats for JS:
//   packLayer(format, prefix, result, options?) → [{name, dtype, shape, data}]
//   unpackLayer(format, path, prefix, options?) → result   (path: a .safetensors file or a model folder)
//   checkpointConfig(format, options?) → {quantizationConfig: JSON text, sideFile?: {name, text}}
//   formatLayouts() → the layouts table (formats/layouts.h) as plain objects
// format: a layout's name ('gptq' | 'awq-gemm' | 'awq-gemv' | 'bnb4' | 'bnb8').
#include <napi.h>

#include "bindings/js_args.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "formats/bnb.h"
#include "formats/checkpoint_config.h"
#include "formats/layout_pack.h"
#include "formats/layouts.h"

namespace quantstudio::bindings {
namespace {

using formats::CheckpointLayout;
using formats::LayoutId;

const CheckpointLayout& FormatFromJs(const Napi::Value& value) {
  const std::string name = value.ToString().Utf8Value();
  if (const CheckpointLayout* layout = formats::FindLayout(name)) return *layout;
  throw Napi::TypeError::New(value.Env(), "unknown format '" + name + "'; use " + formats::LayoutNames());
}

Napi::Object OptionsObject(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsObject()) return info[i].As<Napi::Object>();
  return Napi::Object::New(info.Env());
}

DType ComputeDtype(const Napi::Object& options) {
  const Napi::Value v = options.Get("computeDtype");
  const std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "float16";
  if (name == "float16") return DType::F16;
  if (name == "bfloat16") return DType::BF16;
  if (name == "float32") return DType::F32;
  throw Napi::TypeError::New(options.Env(), "computeDtype must be float16, bfloat16 or float32");
}

template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const formats::FormatError& e) {
    throw Napi::Error::New(env, e.what());
  } catch (const io::IoError& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value PackLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CheckpointLayout& layout = FormatFromJs(info[0]);
  const std::string prefix = info[1].ToString().Utf8Value();
  const quant::QuantResult result = QuantResultFromJs(info[2]);
  const Napi::Object options = OptionsObject(info, 3);
  if (formats::FeedOf(result) != layout.feed) {
    throw Napi::TypeError::New(
        env, std::string("format ") + layout.name + " packs a '" + formats::FeedName(layout.feed) + "' result");
  }
  const DType computeDtype = layout.feed == formats::Feed::Bnb4 ? ComputeDtype(options) : DType::F16;
  const bool v2Zeros = OptionBool(options, "v2Zeros", false);
  const formats::TensorSet set =
      Guard(env, [&] { return formats::PackLayout(layout.id, prefix, result, computeDtype, v2Zeros); });
  Napi::Array out = Napi::Array::New(env, set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", set[i].name);
    t.Set("dtype", DTypeName(set[i].dtype));
    t.Set("shape", ShapeToJs(env, set[i].shape));
    t.Set("data", BytesToTypedArray(env, set[i].dtype, set[i].bytes.data(), set[i].bytes.size()));
    out.Set(static_cast<uint32_t>(i), t);
  }
  return out;
}

Napi::Value UnpackLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CheckpointLayout& layout = FormatFromJs(info[0]);
  const std::string path = info[1].ToString().Utf8Value();
  const std::string prefix = info[2].ToString().Utf8Value();
  const Napi::Object options = OptionsObject(info, 3);
  const int bits = static_cast<int>(OptionNumber(options, "bits", 4));
  const int64_t groupSize = static_cast<int64_t>(OptionNumber(options, "groupSize", 128));
  const bool v2Zeros = OptionBool(options, "v2Zeros", false);
  const quant::QuantResult result = Guard(env, [&]() -> quant::QuantResult {
    auto weights = io::ModelWeights::Open(path);
    return formats::UnpackLayout(layout.id, formats::LookupIn(*weights), prefix, bits, groupSize, v2Zeros);
  });
  return QuantResultToJs(env, result);
}

Napi::Value CheckpointConfig(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CheckpointLayout& layout = FormatFromJs(info[0]);
  const Napi::Object o = OptionsObject(info, 1);
  formats::CheckpointConfigOptions c;
  formats::GptqConfigOptions& g = c.gptq;
  ReadBitsAndGroupSize(o, g);
  g.descAct = OptionBool(o, "descAct", g.descAct);
  g.sym = OptionBool(o, "sym", g.sym);
  g.dampPercent = OptionNumber(o, "dampPercent", g.dampPercent);
  g.trueSequential = OptionBool(o, "trueSequential", g.trueSequential);
  g.staticGroups = OptionBool(o, "staticGroups", g.staticGroups);
  g.v2 = OptionBool(o, "v2", g.v2);
  // AWQ's width stays 4: its layouts hold no other.
  c.awq.groupSize = g.groupSize;
  c.awq.zeroPoint = OptionBool(o, "zeroPoint", c.awq.zeroPoint);
  const Napi::Value type = o.Get("quantType");
  c.bnb.quantType =
      type.IsString() && type.As<Napi::String>().Utf8Value() == "fp4" ? quant::Bnb4Type::FP4 : quant::Bnb4Type::NF4;
  c.bnb.doubleQuant = OptionBool(o, "doubleQuant", c.bnb.doubleQuant);
  c.bnb.int8Threshold = OptionNumber(o, "threshold", c.bnb.int8Threshold);
  if (layout.feed == formats::Feed::Bnb4 || layout.feed == formats::Feed::Int8) c.bnb.computeDtype = ComputeDtype(o);
  // options JSON cannot hold (NaN, infinities) come back as an ordinary error
  const formats::CheckpointConfig config = Guard(env, [&] { return formats::CheckpointConfigFor(layout.id, c); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("quantizationConfig", config.quantizationConfig.Dump());
  if (!config.sideFileName.empty()) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("name", config.sideFileName);
    f.Set("text", config.sideFile.Dump(2) + "\n");
    out.Set("sideFile", f);
  }
  return out;
}

// The table as plain objects, for the test that holds model/checkpointLayouts.ts equal to it.
Napi::Value FormatLayouts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<CheckpointLayout>& layouts = formats::CheckpointLayouts();
  Napi::Array out = Napi::Array::New(env, layouts.size());
  for (size_t i = 0; i < layouts.size(); ++i) {
    const CheckpointLayout& l = layouts[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", l.name);
    o.Set("feed", formats::FeedName(l.feed));
    Napi::Array bits = Napi::Array::New(env, l.bits.size());
    for (size_t b = 0; b < l.bits.size(); ++b) bits.Set(static_cast<uint32_t>(b), l.bits[b]);
    o.Set("bits", bits);
    o.Set("symmetric", l.symmetric);
    o.Set("featureMultiple", l.featureMultiple);
    o.Set("packing", l.packing);
    Napi::Array tensors = Napi::Array::New(env, l.tensors.size());
    for (size_t t = 0; t < l.tensors.size(); ++t) {
      Napi::Object tensor = Napi::Object::New(env);
      tensor.Set("suffix", l.tensors[t].suffix);
      tensor.Set("dtype", DTypeName(l.tensors[t].dtype));
      tensor.Set("when", formats::WhenName(l.tensors[t].when));
      tensors.Set(static_cast<uint32_t>(t), tensor);
    }
    o.Set("tensors", tensors);
    o.Set("quantMethod", l.quantMethod);
    o.Set("version", l.version);
    o.Set("checkpointFormat", l.checkpointFormat);
    o.Set("sideFile", l.sideFile);
    o.Set("skipKey", l.skipKey);
    o.Set("splitsFusedLinears", l.splitsFusedLinears);
    o.Set("engineWrites", l.engineWrites);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

const Registration kRegistration({
    {"packLayer", PackLayer},
    {"unpackLayer", UnpackLayer},
    {"checkpointConfig", CheckpointConfig},
    {"formatLayouts", FormatLayouts},
});

}  // namespace
}  // namespace quantstudio::bindings
