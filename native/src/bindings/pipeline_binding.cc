// quantizePipeline(options, onProgress?, cancel?) → Promise<{out, bytes, seconds, layers}>, and
// measureWidthSensitivity(options, widths, onProgress?(done, total), cancel?) → Promise<{fpNll, samples, tokens,
// layers: [{layer, kl}], seconds}> (pipeline/width_sensitivity.h); both run off the JS thread (typed in
// native/lib/quantize.ts, which builds `options`). Progress events: {phase, done, total, layer?: {name, seconds, error,
// errorKind}}. Cancel: set cancel[0] ≠ 0; the promise then rejects with "cancelled" and no output folder is left.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/async_job.h"
#include "bindings/js_args.h"
#include "bindings/lora_js.h"
#include "bindings/model_config_js.h"
#include "bindings/register.h"
#include "pipeline/block_gradient_check.h"
#include "pipeline/pipeline.h"
#include "pipeline/width_sensitivity.h"

namespace quantstudio {
namespace {

using pipeline::Layout;
using pipeline::Method;

struct ProgressEvent {
  std::string phase;
  int64_t done = 0, total = 0;
  bool hasLayer = false;
  pipeline::LayerReport layer;
};

std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!o.Has(key) || o.Get(key).IsUndefined()) return fallback;
  if (!o.Get(key).IsString()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a string");
  return o.Get(key).As<Napi::String>().Utf8Value();
}

Method ParseMethod(Napi::Env env, const std::string& s) {
  if (s == "rtn") return Method::Rtn;
  if (s == "gptq") return Method::Gptq;
  if (s == "awq") return Method::Awq;
  if (s == "nf4") return Method::Nf4;
  if (s == "fp4") return Method::Fp4;
  if (s == "int8") return Method::Int8;
  throw Napi::RangeError::New(env, "method must be rtn, gptq, awq, nf4, fp4 or int8 (got \"" + s + "\")");
}

Layout ParseLayout(Napi::Env env, const std::string& s) {
  const formats::CheckpointLayout* layout = formats::FindLayout(s);
  if (layout && layout->engineWrites) return layout->id;
  throw Napi::RangeError::New(env, "layout must be " + formats::LayoutNames(true) + " (got \"" + s + "\")");
}

DType ParseComputeDtype(Napi::Env env, const std::string& s) {
  if (s == "float16") return DType::F16;
  if (s == "bfloat16") return DType::BF16;
  if (s == "float32") return DType::F32;
  throw Napi::RangeError::New(env, "computeDtype must be float16, bfloat16 or float32 (got \"" + s + "\")");
}

// `writes`: the options of a run that writes a checkpoint (out required); the sensitivity measurement writes nothing.
pipeline::PipelineOptions ReadOptions(const Napi::Object& o, bool writes = true) {
  Napi::Env env = o.Env();
  using bindings::OptionBool;
  using bindings::OptionNumber;
  pipeline::PipelineOptions p;
  p.source = StringOption(o, "source", "");
  p.out = StringOption(o, "out", "");
  if (p.source.empty() || (writes && p.out.empty()))
    throw Napi::TypeError::New(env, writes ? "source and out folders are required" : "the source folder is required");
  p.overwrite = OptionBool(o, "overwrite", false);
  if (!o.Get("model").IsObject()) throw Napi::TypeError::New(env, "model must be a runtime config object");
  p.model = bindings::ReadModelConfig(o.Get("model").As<Napi::Object>());
  p.method = ParseMethod(env, StringOption(o, "method", "gptq"));
  p.layout = ParseLayout(env, StringOption(o, "layout", "gptq"));
  const std::string format = StringOption(o, "checkpointFormat", "gptq");
  if (format != "gptq" && format != formats::kGptqV2Format)
    throw Napi::TypeError::New(env, "checkpointFormat must be gptq or gptq_v2, not " + format);
  p.gptqV2 = format == formats::kGptqV2Format;
  const int bits = static_cast<int>(OptionNumber(o, "bits", 4));
  const int64_t groupSize = static_cast<int64_t>(OptionNumber(o, "groupSize", 128));
  p.gptq.bits = bits;
  p.gptq.groupSize = groupSize;
  p.gptq.sym = OptionBool(o, "sym", true);
  p.gptq.descAct = OptionBool(o, "descAct", false);
  p.gptq.staticGroups = OptionBool(o, "staticGroups", false);
  // defaults are the option structs' own; the TS side passes every key (QUANT_DEFAULTS)
  p.gptq.dampPercent = OptionNumber(o, "dampPercent", p.gptq.dampPercent);
  p.gptq.dampAutoIncrement = OptionNumber(o, "dampAutoIncrement", p.gptq.dampAutoIncrement);
  p.gptq.actGroupAware = OptionBool(o, "actGroupAware", p.gptq.actGroupAware);
  p.gptq.mse = OptionNumber(o, "mse", p.gptq.mse);
  p.gptq.gptaqAlpha = OptionNumber(o, "gptaqAlpha", p.gptq.gptaqAlpha);
  if (o.Has("signRound") && o.Get("signRound").IsObject()) {
    // resolved on the TS side (schemas/job.schema.json defaults): every field present
    const Napi::Object s = o.Get("signRound").As<Napi::Object>();
    p.signRound.iters = static_cast<int64_t>(OptionNumber(s, "iters", 0));
    p.signRound.lr = OptionNumber(s, "lr", 0);
    p.signRound.minmaxLr = OptionNumber(s, "minmaxLr", p.signRound.lr);
    p.signRound.batchSize = static_cast<int64_t>(OptionNumber(s, "batchSize", p.signRound.batchSize));
  }
  p.trueSequential = OptionBool(o, "trueSequential", true);
  p.awq.bits = bits;
  p.awq.groupSize = groupSize;
  p.awq.zeroPoint = OptionBool(o, "zeroPoint", true);
  p.bnb.load4bit = formats::LayoutOf(p.layout).feed != formats::Feed::Int8;
  p.bnb.quantType = p.method == Method::Fp4 ? quant::Bnb4Type::FP4 : quant::Bnb4Type::NF4;
  p.bnb.doubleQuant = OptionBool(o, "doubleQuant", false);
  p.bnb.computeDtype = ParseComputeDtype(env, StringOption(o, "computeDtype", "float16"));
  p.bnb.int8Threshold = OptionNumber(o, "threshold", 6.0);
  p.bnbBlocksize = static_cast<int64_t>(OptionNumber(o, "blocksize", 64));
  if (o.Has("skipModules") && o.Get("skipModules").IsArray()) {
    Napi::Array a = o.Get("skipModules").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) p.skipModules.push_back(a.Get(i).ToString().Utf8Value());
  }
  if (o.Has("dynamic") && o.Get("dynamic").IsArray()) {
    Napi::Array a = o.Get("dynamic").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsObject()) throw Napi::TypeError::New(env, "dynamic rules must be objects");
      const Napi::Object r = a.Get(i).As<Napi::Object>();
      pipeline::GptqModuleRule rule;
      rule.key = StringOption(r, "key", "");
      rule.pattern = StringOption(r, "pattern", "");
      rule.ignoreCase = OptionBool(r, "ignoreCase", false);
      rule.skip = OptionBool(r, "skip", false);
      rule.bits = static_cast<int>(OptionNumber(r, "bits", 0));
      rule.groupSize = static_cast<int64_t>(OptionNumber(r, "groupSize", 0));
      rule.descAct = r.Has("descAct") ? (OptionBool(r, "descAct", false) ? 1 : 0) : -1;
      rule.sym = r.Has("sym") ? (OptionBool(r, "sym", true) ? 1 : 0) : -1;
      p.dynamic.push_back(rule);
    }
  }
  if (o.Get("lora").IsObject()) {
    p.loraFile = bindings::ReadLoraFile(o.Get("lora").As<Napi::Object>());
    p.loraModules = bindings::ReadLoraModules(o.Get("lora").As<Napi::Object>());
  }
  p.dynamicJson = StringOption(o, "dynamicJson", "");
  p.sourceConfigJson = StringOption(o, "sourceConfigJson", "{}");
  if (o.Has("calibration") && o.Get("calibration").IsTypedArray()) {
    Napi::TypedArray t = o.Get("calibration").As<Napi::TypedArray>();
    if (t.TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(env, "calibration must be an Int32Array");
    Napi::Int32Array ids = t.As<Napi::Int32Array>();
    p.calibration.assign(ids.Data(), ids.Data() + ids.ElementLength());
  }
  p.seqLen = static_cast<int64_t>(OptionNumber(o, "seqLen", 0));
  if (p.seqLen > 0 && p.calibration.size() % static_cast<size_t>(p.seqLen) != 0)
    throw Napi::RangeError::New(env, "calibration length must be a multiple of seqLen");
  p.maxShardBytes = static_cast<int64_t>(OptionNumber(o, "maxShardBytes", 0));
  return p;
}

Napi::Object LayerToJs(Napi::Env env, const pipeline::LayerReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", r.name);
  o.Set("seconds", r.seconds);
  o.Set("error", r.error);
  o.Set("errorKind", r.outputError ? "output" : "weight");
  if (!r.expertTokens.empty()) {
    Napi::Array tokens = Napi::Array::New(env, r.expertTokens.size());
    for (size_t e = 0; e < r.expertTokens.size(); ++e)
      tokens.Set(static_cast<uint32_t>(e), static_cast<double>(r.expertTokens[e]));
    o.Set("expertTokens", tokens);
    Napi::Array fallback = Napi::Array::New(env, r.fallbackExperts.size());
    for (size_t i = 0; i < r.fallbackExperts.size(); ++i)
      fallback.Set(static_cast<uint32_t>(i), static_cast<double>(r.fallbackExperts[i]));
    o.Set("fallbackExperts", fallback);
  }
  if (r.roundingLossStart >= 0) {
    Napi::Object rounding = Napi::Object::New(env);
    rounding.Set("startLoss", r.roundingLossStart);
    rounding.Set("bestLoss", r.roundingLossBest);
    rounding.Set("bestIteration", static_cast<double>(r.roundingBestIteration));
    o.Set("signRound", rounding);
  }
  if (!r.raisedDamping.empty()) {
    Napi::Array raised = Napi::Array::New(env, r.raisedDamping.size());
    for (size_t i = 0; i < r.raisedDamping.size(); ++i) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("module", r.raisedDamping[i].module);
      d.Set("dampPercent", r.raisedDamping[i].dampPercent);
      raised.Set(static_cast<uint32_t>(i), d);
    }
    o.Set("raisedDamping", raised);
  }
  return o;
}

std::vector<napi_value> ProgressArgs(Napi::Env env, const ProgressEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("phase", e.phase);
  o.Set("done", static_cast<double>(e.done));
  o.Set("total", static_cast<double>(e.total));
  if (e.hasLayer) o.Set("layer", LayerToJs(env, e.layer));
  return {o};
}

Napi::Value ResultToJs(Napi::Env env, pipeline::PipelineResult& result) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("out", result.out);
  o.Set("bytes", static_cast<double>(result.bytes));
  o.Set("seconds", result.seconds);
  Napi::Array layers = Napi::Array::New(env, result.layers.size());
  for (size_t i = 0; i < result.layers.size(); ++i)
    layers.Set(static_cast<uint32_t>(i), LayerToJs(env, result.layers[i]));
  o.Set("layers", layers);
  return o;
}

Napi::Value QuantizePipeline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "quantizePipeline needs an options object");
  bindings::JobSpec<pipeline::PipelineResult, ProgressEvent> spec;
  spec.work = [options = ReadOptions(info[0].As<Napi::Object>())](const bindings::CancelFlag& cancel,
                                                                  const bindings::Report<ProgressEvent>& report) {
    quant::JobContext ctx;
    ctx.cancel = cancel.word();
    return pipeline::Quantize(
        options,
        [&](const pipeline::Progress& p) {
          report({p.phase, p.done, p.total, p.layer != nullptr, p.layer ? *p.layer : pipeline::LayerReport()});
        },
        ctx);
  };
  spec.toJs = ResultToJs;
  spec.progressArgs = ProgressArgs;
  return bindings::RunAsync(env, std::move(spec), info[1], info[2]);
}

Napi::Value SensitivityToJs(Napi::Env env, pipeline::WidthSensitivity& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("fpNll", r.fpNll);
  o.Set("samples", static_cast<double>(r.samples));
  o.Set("tokens", static_cast<double>(r.tokens));
  o.Set("seconds", r.seconds);
  Napi::Array layers = Napi::Array::New(env, r.layers.size());
  for (size_t i = 0; i < r.layers.size(); ++i) {
    Napi::Object l = Napi::Object::New(env);
    l.Set("layer", r.layers[i].layer);
    Napi::Array kl = Napi::Array::New(env, r.layers[i].kl.size());
    for (size_t k = 0; k < r.layers[i].kl.size(); ++k) kl.Set(static_cast<uint32_t>(k), r.layers[i].kl[k]);
    l.Set("kl", kl);
    layers.Set(static_cast<uint32_t>(i), l);
  }
  o.Set("layers", layers);
  return o;
}

Napi::Value MeasureWidthSensitivity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "measureWidthSensitivity needs an options object and an array of widths");
  std::vector<int> widths;
  const Napi::Array list = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) widths.push_back(list.Get(i).ToNumber().Int32Value());
  bindings::JobSpec<pipeline::WidthSensitivity, bindings::Steps> spec;
  spec.work = [options = ReadOptions(info[0].As<Napi::Object>(), false), widths](
                  const bindings::CancelFlag& cancel, const bindings::Report<bindings::Steps>& report) {
    quant::JobContext ctx;
    ctx.cancel = cancel.word();
    return pipeline::MeasureWidthSensitivity(
        options, widths,
        [&](int64_t done, int64_t total) {
          report({done, total});
        },
        ctx);
  };
  spec.toJs = SensitivityToJs;
  spec.progressArgs = bindings::StepsArgs;
  return bindings::RunAsync(env, std::move(spec), info[2], info[3]);
}

// checkBlockGradient(options, layer) → {forwardMaxDiff, outputMaxAbs, loss, roles: [{role, analytic, numeric}]}
// (pipeline/block_gradient_check.h), synchronous: a test's check on a small model.
Napi::Value CheckBlockGradient(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "checkBlockGradient needs an options object and a layer index");
  pipeline::BlockGradientCheck check;
  try {
    check = pipeline::CheckBlockGradient(ReadOptions(info[0].As<Napi::Object>(), false),
                                         info[1].As<Napi::Number>().Int64Value());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("forwardMaxDiff", check.forwardMaxDiff);
  o.Set("outputMaxAbs", check.outputMaxAbs);
  o.Set("loss", check.loss);
  Napi::Array roles = Napi::Array::New(env, check.roles.size());
  for (size_t i = 0; i < check.roles.size(); ++i) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("role", check.roles[i].role);
    r.Set("analytic", check.roles[i].analytic);
    r.Set("numeric", check.roles[i].numeric);
    roles.Set(static_cast<uint32_t>(i), r);
  }
  o.Set("roles", roles);
  return o;
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("checkBlockGradient", Napi::Function::New(env, CheckBlockGradient, "checkBlockGradient"));
  exports.Set("quantizePipeline", Napi::Function::New(env, QuantizePipeline, "quantizePipeline"));
  exports.Set("measureWidthSensitivity", Napi::Function::New(env, MeasureWidthSensitivity, "measureWidthSensitivity"));
});

}  // namespace
}  // namespace quantstudio
