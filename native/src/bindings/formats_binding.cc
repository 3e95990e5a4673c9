// Checkpoint formats for JS:
//   packLayer(format, prefix, result, options?) → [{name, dtype, shape, data}]
//   unpackLayer(format, path, prefix, options?) → result   (path: a .safetensors file or a model folder)
//   checkpointConfig(format, options?) → {quantizationConfig: JSON text, sideFile?: {name, text}}
// format: 'gptq' | 'awq-gemm' | 'awq-gemv' | 'bnb4' | 'bnb8'.
#include <napi.h>

#include "bindings/quant_job.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "formats/awq.h"
#include "formats/bnb.h"
#include "formats/checkpoint_config.h"
#include "formats/gptq.h"

namespace quantstudio::bindings {
namespace {

enum class Format { Gptq, AwqGemm, AwqGemv, Bnb4, Bnb8 };

Format FormatFromJs(const Napi::Value& value) {
  static const struct {
    const char* name;
    Format format;
  } kFormats[] = {{"gptq", Format::Gptq}, {"awq-gemm", Format::AwqGemm}, {"awq-gemv", Format::AwqGemv},
                  {"bnb4", Format::Bnb4}, {"bnb8", Format::Bnb8}};
  const std::string name = value.ToString().Utf8Value();
  for (const auto& f : kFormats) {
    if (name == f.name) return f.format;
  }
  throw Napi::TypeError::New(value.Env(), "unknown format '" + name + "'; use gptq, awq-gemm, awq-gemv, bnb4 or bnb8");
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

template <typename T>
const T& Expect(Napi::Env env, const quant::QuantResult& r, const char* kind, const std::string& format) {
  const T* v = std::get_if<T>(&r);
  if (v == nullptr) throw Napi::TypeError::New(env, "format " + format + " packs a '" + kind + "' result");
  return *v;
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
  const Format format = FormatFromJs(info[0]);
  const std::string formatName = info[0].ToString().Utf8Value();
  const std::string prefix = info[1].ToString().Utf8Value();
  const quant::QuantResult result = QuantResultFromJs(info[2]);
  const Napi::Object options = OptionsObject(info, 3);
  const formats::TensorSet set = Guard(env, [&]() -> formats::TensorSet {
    switch (format) {
      case Format::Gptq: return formats::PackGptq(prefix, Expect<quant::GroupQuantized>(env, result, "group", formatName));
      case Format::AwqGemm:
        return formats::PackAwq(prefix, Expect<quant::GroupQuantized>(env, result, "group", formatName), formats::AwqVersion::Gemm);
      case Format::AwqGemv:
        return formats::PackAwq(prefix, Expect<quant::GroupQuantized>(env, result, "group", formatName), formats::AwqVersion::Gemv);
      case Format::Bnb4:
        return formats::PackBnb4(prefix, Expect<quant::Bnb4Quantized>(env, result, "bnb4", formatName), ComputeDtype(options));
      case Format::Bnb8: return formats::PackBnb8(prefix, Expect<quant::Int8Quantized>(env, result, "int8", formatName));
    }
    return {};
  });
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
  const Format format = FormatFromJs(info[0]);
  const std::string path = info[1].ToString().Utf8Value();
  const std::string prefix = info[2].ToString().Utf8Value();
  const Napi::Object options = OptionsObject(info, 3);
  const int bits = static_cast<int>(OptionNumber(options, "bits", 4));
  const int64_t groupSize = static_cast<int64_t>(OptionNumber(options, "groupSize", 128));
  const quant::QuantResult result = Guard(env, [&]() -> quant::QuantResult {
    auto weights = io::ModelWeights::Open(path);
    const formats::TensorLookup lookup = formats::LookupIn(*weights);
    switch (format) {
      case Format::Gptq: return formats::UnpackGptq(lookup, prefix, bits, groupSize);
      case Format::AwqGemm: return formats::UnpackAwq(lookup, prefix, groupSize, formats::AwqVersion::Gemm);
      case Format::AwqGemv: return formats::UnpackAwq(lookup, prefix, groupSize, formats::AwqVersion::Gemv);
      case Format::Bnb4: return formats::UnpackBnb4(lookup, prefix);
      case Format::Bnb8: return formats::UnpackBnb8(lookup, prefix);
    }
    return quant::QuantResult{};
  });
  return QuantResultToJs(env, result);
}

/** The config entries for one format as {quantizationConfig, sideFile?}; FormatError for options JSON cannot hold. */
Napi::Value CheckpointConfigToJs(Napi::Env env, Format format, const Napi::Object& o) {
  Napi::Object out = Napi::Object::New(env);
  auto side = [&](const char* name, const json::Value& v) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("name", name);
    f.Set("text", v.Dump(2) + "\n");
    out.Set("sideFile", f);
  };
  switch (format) {
    case Format::Gptq: {
      formats::GptqConfigOptions g;
      g.bits = static_cast<int>(OptionNumber(o, "bits", g.bits));
      g.groupSize = static_cast<int64_t>(OptionNumber(o, "groupSize", static_cast<double>(g.groupSize)));
      g.descAct = OptionBool(o, "descAct", g.descAct);
      g.sym = OptionBool(o, "sym", g.sym);
      g.dampPercent = OptionNumber(o, "dampPercent", g.dampPercent);
      g.trueSequential = OptionBool(o, "trueSequential", g.trueSequential);
      g.staticGroups = OptionBool(o, "staticGroups", g.staticGroups);
      out.Set("quantizationConfig", formats::GptqQuantizationConfig(g).Dump());
      side("quantize_config.json", formats::GptqQuantizeConfigFile(g));
      break;
    }
    case Format::AwqGemm:
    case Format::AwqGemv: {
      formats::AwqConfigOptions a;
      a.groupSize = static_cast<int64_t>(OptionNumber(o, "groupSize", static_cast<double>(a.groupSize)));
      a.zeroPoint = OptionBool(o, "zeroPoint", a.zeroPoint);
      a.version = format == Format::AwqGemm ? formats::AwqVersion::Gemm : formats::AwqVersion::Gemv;
      out.Set("quantizationConfig", formats::AwqQuantizationConfig(a).Dump());
      side("quant_config.json", formats::AwqQuantConfigFile(a));
      break;
    }
    case Format::Bnb4:
    case Format::Bnb8: {
      formats::BnbConfigOptions b;
      b.load4bit = format == Format::Bnb4;
      const Napi::Value type = o.Get("quantType");
      b.quantType = type.IsString() && type.As<Napi::String>().Utf8Value() == "fp4" ? quant::Bnb4Type::FP4 : quant::Bnb4Type::NF4;
      b.doubleQuant = OptionBool(o, "doubleQuant", b.doubleQuant);
      b.computeDtype = ComputeDtype(o);
      b.int8Threshold = OptionNumber(o, "threshold", b.int8Threshold);
      out.Set("quantizationConfig", formats::BnbQuantizationConfig(b).Dump());
      break;
    }
  }
  return out;
}

Napi::Value CheckpointConfig(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Format format = FormatFromJs(info[0]);
  const Napi::Object o = OptionsObject(info, 1);
  return Guard(env, [&] { return CheckpointConfigToJs(env, format, o); });
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("packLayer", Napi::Function::New(env, PackLayer, "packLayer"));
  exports.Set("unpackLayer", Napi::Function::New(env, UnpackLayer, "unpackLayer"));
  exports.Set("checkpointConfig", Napi::Function::New(env, CheckpointConfig, "checkpointConfig"));
});

}  // namespace
}  // namespace quantstudio::bindings
