// safetensors and float conversions for JS:
//   readSafetensorsHeader(path) → {tensors: [{name, dtype, shape, byteLength}], metadata}
//   readTensor(path, name) → {name, dtype, shape, data}   (path: a .safetensors file or a model folder)
//   writeSafetensors(path, tensors, metadata?)
//   writeCheckpoint(out, source, overwrite, files, onProgress?, cancel?) → Promise<void>: every file
//     written into a temp folder, renamed to `out` on success, removed on failure or cancellation.
//   f16ToF32 / f32ToF16 / bf16ToF32 / f32ToBf16 over whole arrays.
#include <napi.h>

#include <fstream>
#include <memory>
#include <type_traits>

#include "bindings/async_job.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "io/output_folder.h"
#include "io/safetensors.h"

namespace quantstudio::bindings {
namespace {

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

/** Runs an io call, turning IoError into a JS Error with the same message. */
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const io::IoError& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Object TensorInfo(Napi::Env env, const io::TensorView& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", t.name);
  o.Set("dtype", DTypeName(t.dtype));
  o.Set("shape", ShapeToJs(env, t.shape));
  o.Set("byteLength", static_cast<double>(t.nbytes));
  return o;
}

Napi::Value ReadHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  auto file = Guard(env, [&] { return io::SafetensorsFile::Open(path); });
  Napi::Array tensors = Napi::Array::New(env, file->tensors().size());
  for (size_t i = 0; i < file->tensors().size(); ++i)
    tensors.Set(static_cast<uint32_t>(i), TensorInfo(env, file->tensors()[i]));
  Napi::Object metadata = Napi::Object::New(env);
  for (const auto& [k, v] : file->metadata()) metadata.Set(k, v);
  Napi::Object result = Napi::Object::New(env);
  result.Set("tensors", tensors);
  result.Set("metadata", metadata);
  return result;
}

Napi::Value ReadTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const std::string name = StringArg(info, 1, "name");
  auto weights = Guard(env, [&] { return io::ModelWeights::Open(path); });
  const io::TensorView& t = Guard(env, [&]() -> const io::TensorView& { return weights->Get(name); });
  Napi::Object o = TensorInfo(env, t);
  o.Set("data", BytesToTypedArray(env, t.dtype, t.data, t.nbytes));
  return o;
}

struct OwnedSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

std::vector<OwnedSpec> SpecsFromJs(const Napi::Value& value) {
  if (!value.IsArray())
    throw Napi::TypeError::New(value.Env(), "tensors must be an array of {name, dtype, shape, data}");
  Napi::Array a = value.As<Napi::Array>();
  std::vector<OwnedSpec> specs;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value item = a.Get(i);
    if (!item.IsObject())
      throw Napi::TypeError::New(value.Env(), "tensors[" + std::to_string(i) + "] must be an object");
    Napi::Object o = item.As<Napi::Object>();
    const std::string where = "tensors[" + std::to_string(i) + "]";
    if (!o.Get("name").IsString()) throw Napi::TypeError::New(value.Env(), where + ".name must be a string");
    specs.push_back({o.Get("name").As<Napi::String>().Utf8Value(), DTypeFromJs(o.Get("dtype"), where + ".dtype"),
                     ShapeFromJs(o.Get("shape"), where + ".shape"), TypedArrayBytes(o.Get("data"), where + ".data")});
  }
  return specs;
}

std::vector<io::TensorSpec> Views(const std::vector<OwnedSpec>& specs) {
  std::vector<io::TensorSpec> views;
  for (const OwnedSpec& s : specs) views.push_back({s.name, s.dtype, s.shape, s.bytes.data(), s.bytes.size()});
  return views;
}

std::map<std::string, std::string> MetadataFromJs(const Napi::Value& value) {
  std::map<std::string, std::string> metadata;
  if (value.IsUndefined() || value.IsNull()) return metadata;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "metadata must be an object of strings");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string k = keys.Get(i).ToString().Utf8Value();
    Napi::Value v = o.Get(k);
    if (!v.IsString()) throw Napi::TypeError::New(value.Env(), "metadata value of '" + k + "' must be a string");
    metadata[k] = v.As<Napi::String>().Utf8Value();
  }
  return metadata;
}

Napi::Value WriteFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const std::vector<OwnedSpec> specs = SpecsFromJs(info[1]);
  const auto metadata = MetadataFromJs(info.Length() > 2 ? info[2] : env.Undefined());
  Guard(env, [&] { io::WriteSafetensors(path, Views(specs), metadata); });
  return env.Undefined();
}

/** One file of a checkpoint: safetensors (tensors + metadata) or text (config JSON). */
struct OutputFile {
  std::string name;
  bool isText = false;
  std::string text;
  std::vector<OwnedSpec> tensors;
  std::map<std::string, std::string> metadata;
};

Napi::Value WriteCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string out = StringArg(info, 0, "out");
  const std::string source = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  const bool overwrite = info[2].ToBoolean().Value();
  if (!info[3].IsArray()) throw Napi::TypeError::New(env, "files must be an array of {name, text} or {name, tensors}");
  auto files = std::make_shared<std::vector<OutputFile>>();
  Napi::Array a = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Object o = a.Get(i).As<Napi::Object>();
    OutputFile f;
    f.name = o.Get("name").ToString().Utf8Value();
    if (f.name.empty() || f.name.find('/') != std::string::npos || f.name == "." || f.name == "..") {
      throw Napi::TypeError::New(env, "files[" + std::to_string(i) + "].name must be a plain file name");
    }
    if (o.Get("text").IsString()) {
      f.isText = true;
      f.text = o.Get("text").As<Napi::String>().Utf8Value();
    } else {
      f.tensors = SpecsFromJs(o.Get("tensors"));
      f.metadata = MetadataFromJs(o.Get("metadata"));
    }
    files->push_back(std::move(f));
  }
  JobSpec<bool, Steps> spec;
  spec.work = [=](const CancelFlag& cancel, const Report<Steps>& report) {
    int64_t total = 0, done = 0;
    for (const OutputFile& f : *files) total += f.isText ? 1 : static_cast<int64_t>(f.tensors.size());
    io::OutputFolder folder(out, source, overwrite);  // removed unless committed
    for (const OutputFile& f : *files) {
      cancel.Check();
      const std::string path = folder.PathOf(f.name);
      if (f.isText) {
        std::ofstream stream(path, std::ios::binary);
        stream << f.text;
        if (!stream.flush()) throw io::IoError(path + ": cannot write");
        report({++done, total});
        continue;
      }
      io::WriteSafetensors(path, Views(f.tensors), f.metadata, [&](size_t, size_t) {
        report({++done, total});
        cancel.Check();
      });
    }
    cancel.Check();
    folder.Commit();
    return true;
  };
  spec.toJs = [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); };
  spec.progressArgs = StepsArgs;
  return RunAsync(env, std::move(spec), info[4], info[5]);
}

// f16ToF32, bf16ToF32, f32ToF16, f32ToBf16: a Uint16Array to a Float32Array or back, element by element.
template <typename In, typename Out, Out (*kConvert)(In)>
Napi::Value ConvertArray(const Napi::CallbackInfo& info) {
  constexpr bool kFromHalf = std::is_same_v<In, uint16_t>;
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != (kFromHalf ? napi_uint16_array : napi_float32_array)) {
    throw Napi::TypeError::New(info.Env(),
                               std::string("argument must be a ") + (kFromHalf ? "Uint16Array" : "Float32Array"));
  }
  Napi::TypedArrayOf<In> in = info[0].As<Napi::TypedArrayOf<In>>();
  Napi::TypedArrayOf<Out> out = Napi::TypedArrayOf<Out>::New(info.Env(), in.ElementLength());
  for (size_t i = 0; i < in.ElementLength(); ++i) out[i] = kConvert(in[i]);
  return out;
}

const Registration kRegistration({
    {"readSafetensorsHeader", ReadHeader},
    {"readTensor", ReadTensor},
    {"writeSafetensors", WriteFile},
    {"writeCheckpoint", WriteCheckpoint},
    {"f16ToF32", ConvertArray<uint16_t, float, F16ToF32>},
    {"bf16ToF32", ConvertArray<uint16_t, float, Bf16ToF32>},
    {"f32ToF16", ConvertArray<float, uint16_t, F32ToF16>},
    {"f32ToBf16", ConvertArray<float, uint16_t, F32ToBf16>},
});

}  // namespace
}  // namespace quantstudio::bindings
