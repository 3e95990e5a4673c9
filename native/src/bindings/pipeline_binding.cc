// quantizePipeline(options, onProgress?, cancel?) → Promise<{out, bytes, seconds, layers}>; the whole
// pipeline runs off the JS thread (typed in native/lib/quantize.ts, which builds `options`). Progress
// events: {phase, done, total, layer?: {name, seconds, error, errorKind}}. Cancel: set cancel[0] ≠ 0;
// the promise then rejects with "cancelled" and no output folder is left.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/model_config_js.h"
#include "bindings/quant_job.h"
#include "bindings/register.h"
#include "pipeline/pipeline.h"

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
  if (s == "gptq") return Layout::Gptq;
  if (s == "awq-gemm") return Layout::AwqGemm;
  if (s == "awq-gemv") return Layout::AwqGemv;
  if (s == "bnb4") return Layout::Bnb4;
  if (s == "bnb8") return Layout::Bnb8;
  throw Napi::RangeError::New(env, "layout must be gptq, awq-gemm, awq-gemv, bnb4 or bnb8 (got \"" + s + "\")");
}

DType ParseComputeDtype(Napi::Env env, const std::string& s) {
  if (s == "float16") return DType::F16;
  if (s == "bfloat16") return DType::BF16;
  if (s == "float32") return DType::F32;
  throw Napi::RangeError::New(env, "computeDtype must be float16, bfloat16 or float32 (got \"" + s + "\")");
}

pipeline::PipelineOptions ReadOptions(const Napi::Object& o) {
  Napi::Env env = o.Env();
  using bindings::OptionBool;
  using bindings::OptionNumber;
  pipeline::PipelineOptions p;
  p.source = StringOption(o, "source", "");
  p.out = StringOption(o, "out", "");
  if (p.source.empty() || p.out.empty()) throw Napi::TypeError::New(env, "source and out folders are required");
  p.overwrite = OptionBool(o, "overwrite", false);
  if (!o.Get("model").IsObject()) throw Napi::TypeError::New(env, "model must be a runtime config object");
  p.model = bindings::ReadModelConfig(o.Get("model").As<Napi::Object>());
  p.method = ParseMethod(env, StringOption(o, "method", "gptq"));
  p.layout = ParseLayout(env, StringOption(o, "layout", "gptq"));
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
  p.trueSequential = OptionBool(o, "trueSequential", true);
  p.awq.bits = bits;
  p.awq.groupSize = groupSize;
  p.awq.zeroPoint = OptionBool(o, "zeroPoint", true);
  p.bnb.load4bit = p.layout != Layout::Bnb8;
  p.bnb.quantType = p.method == Method::Fp4 ? quant::Bnb4Type::FP4 : quant::Bnb4Type::NF4;
  p.bnb.doubleQuant = OptionBool(o, "doubleQuant", false);
  p.bnb.computeDtype = ParseComputeDtype(env, StringOption(o, "computeDtype", "float16"));
  p.bnb.int8Threshold = OptionNumber(o, "threshold", 6.0);
  p.bnbBlocksize = static_cast<int64_t>(OptionNumber(o, "blocksize", 64));
  if (o.Has("skipModules") && o.Get("skipModules").IsArray()) {
    Napi::Array a = o.Get("skipModules").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) p.skipModules.push_back(a.Get(i).ToString().Utf8Value());
  }
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
    for (size_t e = 0; e < r.expertTokens.size(); ++e) tokens.Set(static_cast<uint32_t>(e), static_cast<double>(r.expertTokens[e]));
    o.Set("expertTokens", tokens);
    Napi::Array fallback = Napi::Array::New(env, r.fallbackExperts.size());
    for (size_t i = 0; i < r.fallbackExperts.size(); ++i) fallback.Set(static_cast<uint32_t>(i), static_cast<double>(r.fallbackExperts[i]));
    o.Set("fallbackExperts", fallback);
  }
  return o;
}

class PipelineJob : public Napi::AsyncProgressQueueWorker<ProgressEvent> {
 public:
  PipelineJob(Napi::Env env, pipeline::PipelineOptions options, Napi::Value onProgress, Napi::Value cancel)
      : Napi::AsyncProgressQueueWorker<ProgressEvent>(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        options_(std::move(options)) {
    if (onProgress.IsFunction()) onProgress_ = Napi::Persistent(onProgress.As<Napi::Function>());
    if (cancel.IsTypedArray() && cancel.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array &&
        cancel.As<Napi::Int32Array>().ElementLength() >= 1) {
      cancelRef_ = Napi::Persistent(cancel.As<Napi::Object>());
      ctx_.cancel = cancel.As<Napi::Int32Array>().Data();
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      result_ = pipeline::Quantize(options_, [&](const pipeline::Progress& p) {
        ProgressEvent e{p.phase, p.done, p.total, p.layer != nullptr, p.layer ? *p.layer : pipeline::LayerReport()};
        progress.Send(&e, 1);
      }, ctx_);
    } catch (const quant::Cancelled&) {
      SetError("cancelled");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnProgress(const ProgressEvent* data, size_t count) override {
    if (onProgress_.IsEmpty()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("phase", data[i].phase);
      o.Set("done", static_cast<double>(data[i].done));
      o.Set("total", static_cast<double>(data[i].total));
      if (data[i].hasLayer) o.Set("layer", LayerToJs(env, data[i].layer));
      onProgress_.Call({o});
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("out", result_.out);
    o.Set("bytes", static_cast<double>(result_.bytes));
    o.Set("seconds", result_.seconds);
    Napi::Array layers = Napi::Array::New(env, result_.layers.size());
    for (size_t i = 0; i < result_.layers.size(); ++i) layers.Set(static_cast<uint32_t>(i), LayerToJs(env, result_.layers[i]));
    o.Set("layers", layers);
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  pipeline::PipelineOptions options_;
  Napi::FunctionReference onProgress_;
  Napi::ObjectReference cancelRef_;  // keeps the flag's memory alive while the job runs
  quant::JobContext ctx_;
  pipeline::PipelineResult result_;
};

Napi::Value QuantizePipeline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "quantizePipeline needs an options object");
  auto* job = new PipelineJob(env, ReadOptions(info[0].As<Napi::Object>()), info[1], info[2]);
  Napi::Promise promise = job->Promise();
  job->Queue();
  return promise;
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("quantizePipeline", Napi::Function::New(env, QuantizePipeline, "quantizePipeline"));
});

}  // namespace
}  // namespace quantstudio
