// gptqQuantize(weight, rows, cols, activationBatches, options, onProgress?, cancel?) → Promise of
// {quantized, loss, dampPercent}. The Hessian (and GPTAQ's cross moment, from options.fpActivationBatches) is
// accumulated from the batches on the worker thread.
#include <napi.h>

#include "bindings/async_job.h"
#include "bindings/js_args.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "quant/gptq.h"
#include "quant/hessian.h"

namespace quantstudio {
namespace {

quant::GptqOptions ReadGptqOptions(const Napi::Value& value) {
  quant::GptqOptions options;
  if (!value.IsObject()) return options;
  const Napi::Object o = value.As<Napi::Object>();
  bindings::ReadBitsAndGroupSize(o, options);
  options.sym = bindings::OptionBool(o, "sym", options.sym);
  options.descAct = bindings::OptionBool(o, "descAct", options.descAct);
  options.staticGroups = bindings::OptionBool(o, "staticGroups", options.staticGroups);
  options.dampPercent = bindings::OptionNumber(o, "dampPercent", options.dampPercent);
  options.dampAutoIncrement = bindings::OptionNumber(o, "dampAutoIncrement", options.dampAutoIncrement);
  options.actGroupAware = bindings::OptionBool(o, "actGroupAware", options.actGroupAware);
  options.mse = bindings::OptionNumber(o, "mse", options.mse);
  options.gptaqAlpha = bindings::OptionNumber(o, "gptaqAlpha", options.gptaqAlpha);
  options.blockSize =
      static_cast<int64_t>(bindings::OptionNumber(o, "blockSize", static_cast<double>(options.blockSize)));
  return options;
}

Napi::Value GptqQuantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bindings::WeightArg arg = bindings::ReadWeight(info[0], info[1], info[2]);
  std::vector<float> weight = std::move(arg.values);
  const int64_t rows = arg.rows, cols = arg.cols;
  if (!info[3].IsArray()) throw Napi::TypeError::New(env, "activation batches must be an array of Float32Array");
  Napi::Array batchArray = info[3].As<Napi::Array>();
  std::vector<std::vector<float>> batches;
  for (uint32_t i = 0; i < batchArray.Length(); ++i) {
    batches.push_back(bindings::CopyFloat32(batchArray.Get(i), "an activation batch"));
    if (batches.back().size() % static_cast<size_t>(cols) != 0)
      throw Napi::RangeError::New(env, "activation batch " + std::to_string(i) + " has " +
                                           std::to_string(batches.back().size()) + " values, not a multiple of cols " +
                                           std::to_string(cols));
  }
  const quant::GptqOptions options = ReadGptqOptions(info[4]);
  const std::string invalid = quant::ValidateGptqOptions(options, cols);
  if (!invalid.empty()) throw Napi::RangeError::New(env, invalid);
  // GPTAQ: the same batches as the full-precision model gives them, one per activation batch.
  std::vector<std::vector<float>> fpBatches;
  if (options.gptaqAlpha > 0.0) {
    const Napi::Value fp = info[4].As<Napi::Object>().Get("fpActivationBatches");
    if (!fp.IsArray() || fp.As<Napi::Array>().Length() != batches.size())
      throw Napi::TypeError::New(env, "gptaqAlpha needs fpActivationBatches: one Float32Array per activation batch");
    for (uint32_t i = 0; i < batches.size(); ++i) {
      fpBatches.push_back(bindings::CopyFloat32(fp.As<Napi::Array>().Get(i), "an fp activation batch"));
      if (fpBatches.back().size() != batches[i].size())
        throw Napi::RangeError::New(env, "fp activation batch " + std::to_string(i) + " has " +
                                             std::to_string(fpBatches.back().size()) + " values, its batch " +
                                             std::to_string(batches[i].size()));
    }
  }

  bindings::JobSpec<quant::GptqResult, bindings::Steps> spec;
  spec.work = [weight = std::move(weight), batches = std::move(batches), fpBatches = std::move(fpBatches), rows, cols,
               options](const bindings::CancelFlag& cancel, const bindings::Report<bindings::Steps>& report) {
    quant::HessianAccumulator hessian(cols);
    for (const std::vector<float>& batch : batches)
      hessian.AddBatch(batch.data(), static_cast<int64_t>(batch.size()) / cols);
    quant::CrossMomentAccumulator cross(fpBatches.empty() ? 0 : cols);
    for (size_t i = 0; i < fpBatches.size(); ++i)
      cross.AddBatch(fpBatches[i].data(), batches[i].data(), static_cast<int64_t>(batches[i].size()) / cols);
    quant::GptqResult result = quant::QuantizeGptq(
        weight.data(), rows, cols, hessian.matrix(), hessian.samples(), options,
        [&](int64_t done, int64_t total) {
          report({done, total});
          return !cancel.Raised();
        },
        fpBatches.empty() ? nullptr : &cross.matrix());
    if (!result.ok) throw std::runtime_error(result.error);
    return result;
  };
  spec.toJs = [](Napi::Env jsEnv, quant::GptqResult& result) -> Napi::Value {
    Napi::Object o = Napi::Object::New(jsEnv);
    o.Set("quantized", bindings::GroupQuantizedToJs(jsEnv, result.quantized));
    o.Set("loss", result.loss);
    o.Set("dampPercent", result.dampPercent);
    return o;
  };
  spec.progressArgs = bindings::StepsArgs;
  return bindings::RunAsync(env, std::move(spec), info[5], info[6]);
}

const Registration kRegistration({
    {"gptqQuantize", GptqQuantize},
});

}  // namespace
}  // namespace quantstudio
