// Quantized linear layers for tests and benchmarks:
//   qlinearForward(path, prefix, x, m, mode) → {format, inFeatures, outFeatures, y: Float32Array [m × out]}
// path: a .safetensors file or model folder holding `<prefix>.*` in any quantized format; mode: "fast"
// (the dispatching kernels at the active SIMD level), "scalar", "avx2" or "avx512" (the same capped at that
// level) or "reference" (one thread, element-wise dequantization).
//   qlinearTime(path, prefixes, m, iterations) → seconds per pass of fast Forwards of a random x [m × in], one
// through each layer of `prefixes` (a string or an array of layers of one shape: several layers read past the L3
// cache, as a model's decode does) (benchmarks)
#include <napi.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bindings/register.h"
#include "io/safetensors.h"
#include "kernels/cpu.h"
#include "runtime/linear_quant.h"

namespace quantstudio::bindings {
namespace {

Napi::Value QlinearForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].ToString().Utf8Value();
  const std::string prefix = info[1].ToString().Utf8Value();
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "qlinearForward: x must be a Float32Array");
  }
  Napi::Float32Array x = info[2].As<Napi::Float32Array>();
  const int64_t m = info[3].ToNumber().Int64Value();
  const std::string mode = info[4].ToString().Utf8Value();
  kernels::SimdLevel cap = kernels::ActiveSimdLevel();
  if (mode != "fast" && mode != "reference" && !kernels::ParseSimdLevel(mode.c_str(), &cap)) {
    throw Napi::TypeError::New(env, "qlinearForward: mode must be fast, scalar, avx2, avx512 or reference");
  }
  try {
    auto weights = io::ModelWeights::Open(path);
    auto layer = runtime::LoadQuantLinear(*weights, prefix);
    if (!layer) throw std::runtime_error(path + ": " + prefix + " is not a quantized layer");
    const int64_t in = layer->inFeatures(), out = layer->outFeatures();
    if (m <= 0 || static_cast<int64_t>(x.ElementLength()) != m * in) {
      throw std::runtime_error("qlinearForward: x must hold m × " + std::to_string(in) + " floats");
    }
    Napi::Float32Array y = Napi::Float32Array::New(env, static_cast<size_t>(m * out));
    if (mode == "reference") {
      layer->ForwardReference(x.Data(), m, y.Data());
    } else {
      const kernels::ScopedSimdCap scoped(cap);
      layer->Forward(x.Data(), m, y.Data());
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("format", layer->format());
    result.Set("inFeatures", Napi::Number::New(env, static_cast<double>(in)));
    result.Set("outFeatures", Napi::Number::New(env, static_cast<double>(out)));
    result.Set("y", y);
    return result;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value QlinearTime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].ToString().Utf8Value();
  std::vector<std::string> prefixes;
  if (info[1].IsArray()) {
    const Napi::Array list = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) prefixes.push_back(list.Get(i).ToString().Utf8Value());
  } else {
    prefixes.push_back(info[1].ToString().Utf8Value());
  }
  const int64_t m = info[2].ToNumber().Int64Value();
  const int64_t iterations = info[3].ToNumber().Int64Value();
  try {
    auto weights = io::ModelWeights::Open(path);
    std::vector<std::unique_ptr<runtime::QuantLinear>> layers;
    for (const std::string& prefix : prefixes) {
      layers.push_back(runtime::LoadQuantLinear(*weights, prefix));
      if (!layers.back()) throw std::runtime_error(path + ": " + prefix + " is not a quantized layer");
      if (layers.back()->inFeatures() != layers[0]->inFeatures() ||
          layers.back()->outFeatures() != layers[0]->outFeatures())
        throw std::runtime_error("qlinearTime: " + prefix + " differs in shape from " + prefixes[0]);
    }
    if (layers.empty() || m <= 0 || iterations <= 0)
      throw std::runtime_error("qlinearTime: a layer, and m and iterations positive, are needed");
    std::vector<float> x(static_cast<size_t>(m * layers[0]->inFeatures()));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    std::vector<float> y(static_cast<size_t>(m * layers[0]->outFeatures()));
    for (const auto& layer : layers) layer->Forward(x.data(), m, y.data());  // warm the pages
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iterations; ++i) {
      for (const auto& layer : layers) layer->Forward(x.data(), m, y.data());
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return Napi::Number::New(env, elapsed.count() / static_cast<double>(iterations));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("qlinearForward", Napi::Function::New(env, QlinearForward, "qlinearForward"));
  exports.Set("qlinearTime", Napi::Function::New(env, QlinearTime, "qlinearTime"));
});

}  // namespace
}  // namespace quantstudio::bindings
