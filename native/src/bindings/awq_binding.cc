// awqSearchScales(weights, rowsEach, cols, activations, options, onProgress?, cancel?) → Promise of
//   {scales, bestRatio, bestLoss, lossByRatio} for linears that share one input (module inspected =
//   the linears themselves).
// awqQuantizeLinear(weight, rows, cols, scales, activations, clip, options) → Promise of
//   {quantized, clipMax}: the scaled (and optionally clip-searched) weight, quantized.
#include <napi.h>

#include "bindings/async_job.h"
#include "bindings/js_args.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "quant/awq.h"

namespace quantstudio {
namespace {

quant::AwqOptions ReadAwqOptions(const Napi::Value& value) {
  quant::AwqOptions options;
  if (!value.IsObject()) return options;
  const Napi::Object o = value.As<Napi::Object>();
  bindings::ReadBitsAndGroupSize(o, options);
  options.zeroPoint = bindings::OptionBool(o, "zeroPoint", options.zeroPoint);
  options.scaleGrid = static_cast<int>(bindings::OptionNumber(o, "scaleGrid", options.scaleGrid));
  options.duoScaling = bindings::OptionBool(o, "duoScaling", options.duoScaling);
  options.clipGrid = static_cast<int>(bindings::OptionNumber(o, "clipGrid", options.clipGrid));
  options.clipMaxShrink = bindings::OptionNumber(o, "clipMaxShrink", options.clipMaxShrink);
  options.clipSampleTokens = static_cast<int64_t>(
      bindings::OptionNumber(o, "clipSampleTokens", static_cast<double>(options.clipSampleTokens)));
  return options;
}

std::vector<float> CopyActivations(const Napi::Value& value, int64_t cols) {
  std::vector<float> x = bindings::CopyFloat32(value, "activations");
  if (x.empty() || x.size() % static_cast<size_t>(cols) != 0)
    throw Napi::RangeError::New(value.Env(), "activations have " + std::to_string(x.size()) +
                                                 " values; expected a non-zero multiple of cols " +
                                                 std::to_string(cols));
  return x;
}

Napi::Float32Array ToFloat32(Napi::Env env, const std::vector<float>& v) {
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

Napi::Value AwqSearchScales(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "weights and rowsEach must be arrays of the same length");
  Napi::Array weightArray = info[0].As<Napi::Array>();
  Napi::Array rowArray = info[1].As<Napi::Array>();
  const int64_t cols = bindings::PositiveInteger(info[2], "cols");
  if (weightArray.Length() != rowArray.Length() || weightArray.Length() == 0)
    throw Napi::RangeError::New(env, "weights and rowsEach must be non-empty arrays of the same length");
  std::vector<std::vector<float>> weights;
  std::vector<int64_t> rows;
  for (uint32_t i = 0; i < weightArray.Length(); ++i) {
    weights.push_back(bindings::CopyFloat32(weightArray.Get(i), "a weight"));
    rows.push_back(bindings::PositiveInteger(rowArray.Get(i), "rowsEach[i]"));
    if (static_cast<int64_t>(weights.back().size()) != rows.back() * cols)
      throw Napi::RangeError::New(env, "weight " + std::to_string(i) + " has " + std::to_string(weights.back().size()) +
                                           " values; rows × cols = " + std::to_string(rows.back() * cols));
  }
  std::vector<float> x = CopyActivations(info[3], cols);
  const quant::AwqOptions options = ReadAwqOptions(info[4]);
  const std::string invalid = quant::ValidateAwqOptions(options, cols);
  if (!invalid.empty()) throw Napi::RangeError::New(env, invalid);

  bindings::JobSpec<quant::AwqScaleResult, bindings::Steps> spec;
  spec.work = [weights = std::move(weights), rows = std::move(rows), x = std::move(x), cols, options](
                  const bindings::CancelFlag& cancel, const bindings::Report<bindings::Steps>& report) {
    std::vector<quant::AwqLinear> linears;
    for (size_t i = 0; i < weights.size(); ++i) linears.push_back({weights[i].data(), rows[i]});
    quant::AwqScaleResult result =
        quant::SearchAwqScales(linears, cols, x.data(), static_cast<int64_t>(x.size()) / cols, options, nullptr,
                               [&](int64_t done, int64_t total) {
                                 report({done, total});
                                 return !cancel.Raised();
                               });
    if (!result.ok) throw std::runtime_error(result.error);
    return result;
  };
  spec.toJs = [](Napi::Env jsEnv, quant::AwqScaleResult& result) -> Napi::Value {
    Napi::Object o = Napi::Object::New(jsEnv);
    o.Set("scales", ToFloat32(jsEnv, result.scales));
    o.Set("bestRatio", result.bestRatio);
    o.Set("bestLoss", result.bestLoss);
    Napi::Array history = Napi::Array::New(jsEnv, result.lossByRatio.size());
    for (size_t i = 0; i < result.lossByRatio.size(); ++i) history.Set(static_cast<uint32_t>(i), result.lossByRatio[i]);
    o.Set("lossByRatio", history);
    return o;
  };
  spec.progressArgs = bindings::StepsArgs;
  return bindings::RunAsync(env, std::move(spec), info[5], info[6]);
}

Napi::Value AwqQuantizeLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bindings::WeightArg arg = bindings::ReadWeight(info[0], info[1], info[2]);
  std::vector<float> weight = std::move(arg.values);
  const int64_t rows = arg.rows, cols = arg.cols;
  std::vector<float> scales = bindings::CopyFloat32(info[3], "scales");
  if (static_cast<int64_t>(scales.size()) != cols)
    throw Napi::RangeError::New(
        env, "scales have " + std::to_string(scales.size()) + " values; expected cols = " + std::to_string(cols));
  const bool clip = info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  std::vector<float> x = clip ? CopyActivations(info[4], cols) : std::vector<float>();
  const quant::AwqOptions options = ReadAwqOptions(info[6]);
  const std::string invalid = quant::ValidateAwqOptions(options, cols);
  if (!invalid.empty()) throw Napi::RangeError::New(env, invalid);

  bindings::JobSpec<quant::AwqLinearResult, bindings::Steps> spec;
  spec.work = [weight = std::move(weight), scales = std::move(scales), x = std::move(x), rows, cols, clip, options](
                  const bindings::CancelFlag&, const bindings::Report<bindings::Steps>&) {
    quant::AwqLinearResult result = quant::QuantizeAwqLinear(weight.data(), rows, cols, scales, x.data(),
                                                             static_cast<int64_t>(x.size()) / cols, clip, options);
    if (!result.ok) throw std::runtime_error(result.error);
    return result;
  };
  spec.toJs = [](Napi::Env jsEnv, quant::AwqLinearResult& result) -> Napi::Value {
    Napi::Object o = Napi::Object::New(jsEnv);
    o.Set("quantized", bindings::GroupQuantizedToJs(jsEnv, result.quantized));
    if (result.clipMax.empty()) {
      o.Set("clipMax", jsEnv.Null());
    } else {
      o.Set("clipMax", ToFloat32(jsEnv, result.clipMax));
    }
    return o;
  };
  return bindings::RunAsync(env, std::move(spec), env.Undefined(), env.Undefined());
}

const Registration kRegistration({
    {"awqSearchScales", AwqSearchScales},
    {"awqQuantizeLinear", AwqQuantizeLinear},
});

}  // namespace
}  // namespace quantstudio
