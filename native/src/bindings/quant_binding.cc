// quantize(method, weight, rows, cols, options, onProgress?, cancel?, tensorName?) → Promise<result>
// for the registry's quantizers (rtn, nf4, fp4, int8); dequantize(result) → Float32Array;
// quantizerNames(); bnbCodeTables() → {nf4, fp4, dynamic8}.
#include <napi.h>

#include <memory>

#include "bindings/async_job.h"
#include "bindings/js_args.h"
#include "bindings/quant_values.h"
#include "bindings/register.h"
#include "quant/registry.h"

namespace quantstudio::bindings {
namespace {

quant::QuantOptions OptionsFromJs(const Napi::Value& value) {
  quant::QuantOptions o;
  if (value.IsUndefined() || value.IsNull()) return o;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "options must be an object");
  const Napi::Object js = value.As<Napi::Object>();
  o.bits = static_cast<int>(OptionNumber(js, "bits", o.bits));
  o.groupSize = static_cast<int64_t>(OptionNumber(js, "groupSize", static_cast<double>(o.groupSize)));
  o.sym = OptionBool(js, "sym", o.sym);
  o.blocksize = static_cast<int64_t>(OptionNumber(js, "blocksize", static_cast<double>(o.blocksize)));
  o.doubleQuant = OptionBool(js, "doubleQuant", o.doubleQuant);
  o.threshold = static_cast<float>(OptionNumber(js, "threshold", o.threshold));
  return o;
}

Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string method = info[0].ToString().Utf8Value();
  const quant::QuantizerFn fn = quant::FindQuantizer(method);
  if (fn == nullptr) {
    std::string names;
    for (const auto& n : quant::QuantizerNames()) names += (names.empty() ? "" : ", ") + n;
    throw Napi::Error::New(env, "unknown quantizer '" + method + "'; available: " + names);
  }
  WeightArg arg = ReadWeight(info[1], info[2], info[3]);
  auto weight = std::make_shared<std::vector<float>>(std::move(arg.values));
  const int64_t rows = arg.rows, cols = arg.cols;
  const quant::QuantOptions options = OptionsFromJs(info[4]);
  const std::string name = info.Length() > 7 && info[7].IsString() ? info[7].As<Napi::String>().Utf8Value() : "weight";
  JobSpec<quant::QuantResult, Steps> spec;
  spec.work = [=](const CancelFlag& cancel, const Report<Steps>& report) {
    quant::JobContext ctx;
    ctx.cancel = cancel.word();
    ctx.progress = [&report](int64_t done, int64_t total) { report({done, total}); };
    return fn(quant::WeightMatrix{name, weight->data(), rows, cols}, options, ctx);
  };
  spec.toJs = [](Napi::Env e, quant::QuantResult& r) -> Napi::Value { return QuantResultToJs(e, r); };
  spec.progressArgs = StepsArgs;
  return RunAsync(env, std::move(spec), info[5], info[6]);
}

Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  const quant::QuantResult result = QuantResultFromJs(info[0]);
  std::vector<float> values;
  if (const auto* g = std::get_if<quant::GroupQuantized>(&result)) {
    values.resize(static_cast<size_t>(g->rows * g->cols));
    for (int64_t r = 0; r < g->rows; ++r) {
      for (int64_t c = 0; c < g->cols; ++c) values[r * g->cols + c] = g->Dequantize(r, c);
    }
  } else if (const auto* b = std::get_if<quant::Bnb4Quantized>(&result)) {
    values = b->Dequantize();
  } else {
    const auto& i = std::get<quant::Int8Quantized>(result);
    values.resize(static_cast<size_t>(i.rows * i.cols));
    for (int64_t r = 0; r < i.rows; ++r) {
      for (int64_t c = 0; c < i.cols; ++c) values[r * i.cols + c] = i.Dequantize(r, c);
    }
  }
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

Napi::Value QuantizerNamesJs(const Napi::CallbackInfo& info) {
  const auto names = quant::QuantizerNames();
  Napi::Array a = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) a.Set(static_cast<uint32_t>(i), names[i]);
  return a;
}

template <size_t N>
Napi::Float32Array Floats(Napi::Env env, const std::array<float, N>& values) {
  Napi::Float32Array a = Napi::Float32Array::New(env, N);
  std::copy(values.begin(), values.end(), a.Data());
  return a;
}

Napi::Value BnbCodeTables(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("nf4", Floats(info.Env(), quant::Nf4Code()));
  o.Set("fp4", Floats(info.Env(), quant::Fp4Code()));
  o.Set("dynamic8", Floats(info.Env(), quant::DynamicMap8()));
  return o;
}

const Registration kRegistration({
    {"quantize", Quantize},
    {"dequantize", Dequantize},
    {"quantizerNames", QuantizerNamesJs},
    {"bnbCodeTables", BnbCodeTables},
});

}  // namespace
}  // namespace quantstudio::bindings
