// The runtime's JS surface (typed in native/lib/runtime.ts):
//   runtimeOpen(folder, config, adapter?) → handle  (sync: mapping + shape checks; a LoRA adapter applied)
//   runtimeLogits(handle, ids) → Promise<Float32Array [m × vocab]>
//   runtimePerplexity(handle, ids, seq, onProgress(done, total), cancel) → Promise<{nll, tokens, windows}>
//   runtimeGenerate(handle, prompt, options, cancel, onToken(id)) → Promise<GenerateResult>
//   (the batched calls, runtimeForwardBatch and runtimeGenerateBatch, are in runtime_batch_binding.cc)
// cancel: an Int32Array flag. Work runs off the JS thread (bindings/async_job.h); errors reject the promise
// with the engine's message.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings/async_job.h"
#include "bindings/lora_js.h"
#include "bindings/model_config_js.h"
#include "bindings/runtime_handles.h"
#include "bindings/register.h"
#include "kernels/elementwise.h"
#include "pipeline/int8_lm_head.h"
#include "runtime/model.h"
#include "runtime/non_finite.h"
#include "runtime/sampler.h"

namespace quantstudio {
namespace bindings {

int64_t RequireInt(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("model config: `") + key + "` must be a number");
  return v.As<Napi::Number>().Int64Value();
}

double OptionalNumber(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

bool OptionalBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

// The rope settings object runtime-config.ts builds (every field present after its defaults).
runtime::RopeSettings ReadRope(const Napi::Value& v, int64_t headDim) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "model config: rope must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  runtime::RopeSettings r;
  r.type = o.Get("type").ToString().Utf8Value();
  r.theta = OptionalNumber(o, "theta", 10000.0);
  r.rotaryDim = static_cast<int64_t>(OptionalNumber(o, "rotaryDim", static_cast<double>(headDim)));
  r.factor = OptionalNumber(o, "factor", 1.0);
  r.originalMaxPositions = static_cast<int64_t>(OptionalNumber(o, "originalMaxPositions", 0));
  r.maxPositions = static_cast<int64_t>(OptionalNumber(o, "maxPositions", 0));
  r.lowFreqFactor = OptionalNumber(o, "lowFreqFactor", 1.0);
  r.highFreqFactor = OptionalNumber(o, "highFreqFactor", 4.0);
  r.attentionFactor = OptionalNumber(o, "attentionFactor", 0.0);
  r.betaFast = OptionalNumber(o, "betaFast", 32.0);
  r.betaSlow = OptionalNumber(o, "betaSlow", 1.0);
  r.mscale = OptionalNumber(o, "mscale", 0.0);
  r.mscaleAllDim = OptionalNumber(o, "mscaleAllDim", 0.0);
  r.truncate = OptionalBool(o, "truncate", true);
  const auto numbers = [&](const char* key) {
    std::vector<double> out;
    const Napi::Value list = o.Get(key);
    if (!list.IsArray()) return out;
    const Napi::Array a = list.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).ToNumber().DoubleValue());
    return out;
  };
  r.shortFactor = numbers("shortFactor");
  r.longFactor = numbers("longFactor");
  return r;
}

runtime::MoeSettings ReadMoe(const Napi::Object& o) {
  runtime::MoeSettings m;
  m.experts = RequireInt(o, "experts");
  m.topK = RequireInt(o, "topK");
  m.expertIntermediateSize = RequireInt(o, "expertIntermediateSize");
  m.normTopkProb = OptionalBool(o, "normTopkProb", false);
  m.sharedExpertIntermediateSize = static_cast<int64_t>(OptionalNumber(o, "sharedExpertIntermediateSize", 0));
  m.mixtralNames = OptionalBool(o, "mixtralNames", false);
  const Napi::Value sparse = o.Get("sparseLayers");
  if (sparse.IsArray()) {
    const Napi::Array a = sparse.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) m.sparseLayers.push_back(a.Get(i).ToBoolean().Value() ? 1 : 0);
  }
  return m;
}

runtime::ModelConfig ReadModelConfig(const Napi::Object& o) {
  runtime::ModelConfig c;
  const std::string family = o.Get("family").ToString().Utf8Value();
  if (family == "llama")
    c.family = runtime::Family::Llama;
  else if (family == "opt")
    c.family = runtime::Family::Opt;
  else
    throw Napi::TypeError::New(o.Env(), "model config: family must be \"llama\" or \"opt\", got \"" + family + "\"");
  c.architecture = o.Get("architecture").ToString().Utf8Value();
  c.hiddenSize = RequireInt(o, "hiddenSize");
  c.intermediateSize = RequireInt(o, "intermediateSize");
  c.layers = RequireInt(o, "layers");
  c.heads = RequireInt(o, "heads");
  c.kvHeads = RequireInt(o, "kvHeads");
  c.headDim = RequireInt(o, "headDim");
  c.vocabSize = RequireInt(o, "vocabSize");
  c.maxPositions = RequireInt(o, "maxPositions");
  c.normEps = static_cast<float>(OptionalNumber(o, "normEps", 1e-5));
  if (c.family == runtime::Family::Llama) c.rope = ReadRope(o.Get("rope"), c.headDim);
  c.qkNorm = OptionalBool(o, "qkNorm", false);
  c.fusedProjections = OptionalBool(o, "fusedProjections", false);
  if (c.family == runtime::Family::Llama && o.Has("slidingRope") && o.Get("slidingRope").IsObject()) {
    c.slidingRope = ReadRope(o.Get("slidingRope"), c.headDim);
    c.hasSlidingRope = true;
  }
  const std::string kvCache = o.Has("kvCache") ? o.Get("kvCache").ToString().Utf8Value() : "fp32";
  if (kvCache != "fp32" && kvCache != "fp16")
    throw Napi::TypeError::New(o.Env(), "model config: kvCache must be \"fp32\" or \"fp16\", got \"" + kvCache + "\"");
  c.kvCacheDtype = kvCache == "fp16" ? DType::F16 : DType::F32;
  const std::string lmHead = o.Has("lmHead") ? o.Get("lmHead").ToString().Utf8Value() : "stored";
  if (lmHead != "stored" && lmHead != "int8")
    throw Napi::TypeError::New(o.Env(), "model config: lmHead must be \"stored\" or \"int8\", got \"" + lmHead + "\"");
  c.lmHeadInt8 = lmHead == "int8";
  c.normOffset = OptionalBool(o, "normOffset", false);
  c.sandwichNorms = OptionalBool(o, "sandwichNorms", false);
  c.geluTanh = OptionalBool(o, "geluTanh", false);
  c.scaleEmbeddings = OptionalBool(o, "scaleEmbeddings", false);
  c.attentionScale = OptionalNumber(o, "attentionScale", 0.0);
  c.attentionSoftcap = OptionalNumber(o, "attentionSoftcap", 0.0);
  c.finalSoftcap = OptionalNumber(o, "finalSoftcap", 0.0);
  c.tieWordEmbeddings = OptionalBool(o, "tieWordEmbeddings", false);
  c.gptqV2Zeros = OptionalBool(o, "gptqV2Zeros", false);
  c.layerNormBefore = OptionalBool(o, "layerNormBefore", true);
  c.finalLayerNorm = OptionalBool(o, "finalLayerNorm", true);
  c.wordEmbedProjDim = static_cast<int64_t>(OptionalNumber(o, "wordEmbedProjDim", 0));
  if (o.Has("moe") && o.Get("moe").IsObject()) c.moe = ReadMoe(o.Get("moe").As<Napi::Object>());
  const Napi::Value windows = o.Get("layerWindows");
  if (windows.IsArray()) {
    const Napi::Array a = windows.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) c.layerWindows.push_back(a.Get(i).ToNumber().Int64Value());
  }
  return c;
}

ModelPtr ModelFrom(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a model handle from runtimeOpen");
  return *v.As<Napi::External<ModelPtr>>().Data();
}

std::vector<int32_t> IdsFrom(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(v.Env(), "token ids must be an Int32Array");
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

}  // namespace bindings

namespace {

using bindings::OptionalBool;

using bindings::OptionalNumber;
using bindings::ReadModelConfig;
using bindings::RequireInt;

using bindings::CancelFlag;
using bindings::IdsFrom;
using bindings::JobSpec;
using bindings::ModelFrom;
using bindings::ModelPtr;
using bindings::Report;
using runtime::Model;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// The adapter as native/lib/loraAdapter.ts resolved its config.
void ApplyAdapter(Model& model, const Napi::Object& adapter) {
  model.ApplyLora(*io::SafetensorsFile::Open(bindings::ReadLoraFile(adapter)), bindings::ReadLoraModules(adapter));
}

// loraMerge(adapter, module, weight, out, in) → W + scale·B·A as a new Float32Array: the merge the quantize pipeline
// runs before quantizing (merge then quantize), for checking it against PEFT's merge_and_unload.
Napi::Value LoraMerge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(env, "loraMerge(adapter, moduleIndex, weight, out, in)");
  }
  const Napi::Object adapter = info[0].As<Napi::Object>();
  const std::vector<runtime::LoraModule> modules = bindings::ReadLoraModules(adapter);
  const size_t index = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  const int64_t out = info[3].ToNumber().Int64Value(), in = info[4].ToNumber().Int64Value();
  const Napi::Float32Array weight = info[2].As<Napi::Float32Array>();
  if (index >= modules.size() || static_cast<int64_t>(weight.ElementLength()) != out * in) {
    throw Napi::RangeError::New(env, "loraMerge: module index or weight size out of range");
  }
  try {
    const runtime::LoraWeights lora =
        runtime::ReadLoraWeights(*io::SafetensorsFile::Open(bindings::ReadLoraFile(adapter)), modules[index], in, out);
    Napi::Float32Array merged = Napi::Float32Array::New(env, weight.ElementLength());
    std::copy(weight.Data(), weight.Data() + weight.ElementLength(), merged.Data());
    runtime::MergeLora(lora, merged.Data());
    return merged;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsObject()) throw Napi::TypeError::New(env, "runtimeOpen(folder, config)");
  try {
    std::unique_ptr<Model> model =
        Model::Load(info[0].As<Napi::String>().Utf8Value(), ReadModelConfig(info[1].As<Napi::Object>()));
    if (model->config().lmHeadInt8) pipeline::UseInt8LmHead(*model);
    if (info[2].IsObject()) ApplyAdapter(*model, info[2].As<Napi::Object>());
    auto* holder = new ModelPtr(std::move(model));
    return Napi::External<ModelPtr>::New(env, holder, [](Napi::Env, ModelPtr* p) { delete p; });
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value Logits(const Napi::CallbackInfo& info) {
  JobSpec<std::vector<float>, int64_t> spec;
  spec.work = [model = ModelFrom(info[0]), ids = IdsFrom(info[1])](const CancelFlag&, const Report<int64_t>&) {
    const int64_t m = static_cast<int64_t>(ids.size());
    if (m == 0) throw std::runtime_error("logits: the id list is empty");
    runtime::KvCache cache = model->NewCache(m);
    std::vector<float> logits(static_cast<size_t>(m * model->config().vocabSize));
    model->Forward(ids.data(), m, cache, logits.data(), true);
    return logits;
  };
  spec.toJs = [](Napi::Env env, std::vector<float>& logits) -> Napi::Value {
    Napi::Float32Array out = Napi::Float32Array::New(env, logits.size());
    std::copy(logits.begin(), logits.end(), out.Data());
    return out;
  };
  return bindings::RunAsync(info.Env(), std::move(spec), info.Env().Undefined(), info.Env().Undefined());
}

struct WindowNll {
  double nll = 0.0;
  int64_t tokens = 0, windows = 0;
};

// Perplexity protocol: consecutive non-overlapping windows of `seq` inputs; window i predicts
// ids[i*seq+1 .. i*seq+seq]; the last, partial window counts too.
WindowNll RunPerplexity(const Model& model, const std::vector<int32_t>& ids, int64_t seq, const CancelFlag& cancel,
                        const Report<bindings::Steps>& report) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (seq <= 0) throw std::runtime_error("perplexity: seq must be positive");
  if (n < 2) throw std::runtime_error("perplexity needs at least 2 tokens, got " + std::to_string(n));
  const int64_t vocab = model.config().vocabSize;
  WindowNll result;
  result.windows = (n - 1 + seq - 1) / seq;
  runtime::KvCache cache = model.NewCache(seq);
  std::vector<float> logits(static_cast<size_t>(seq * vocab));
  for (int64_t w = 0; w < result.windows; ++w) {
    if (cancel.Raised()) throw std::runtime_error("perplexity cancelled");
    const int64_t start = w * seq;
    const int64_t len = std::min(seq, n - 1 - start);
    cache.Clear();
    model.Forward(ids.data() + start, len, cache, logits.data(), true);
    for (int64_t i = 0; i < len; ++i) {
      result.nll +=
          kernels::NegLogLikelihood(logits.data() + i * vocab, vocab, ids[static_cast<size_t>(start + i + 1)]);
    }
    result.tokens += len;
    report({w + 1, result.windows});
  }
  return result;
}

Napi::Value Perplexity(const Napi::CallbackInfo& info) {
  JobSpec<WindowNll, bindings::Steps> spec;
  spec.work = [model = ModelFrom(info[0]), ids = IdsFrom(info[1]), seq = info[2].ToNumber().Int64Value()](
                  const CancelFlag& cancel, const Report<bindings::Steps>& report) {
    return RunPerplexity(*model, ids, seq, cancel, report);
  };
  spec.toJs = [](Napi::Env env, WindowNll& r) -> Napi::Value {
    Napi::Object result = Napi::Object::New(env);
    result.Set("nll", r.nll);
    result.Set("tokens", static_cast<double>(r.tokens));
    result.Set("windows", static_cast<double>(r.windows));
    return result;
  };
  spec.progressArgs = bindings::StepsArgs;
  return bindings::RunAsync(info.Env(), std::move(spec), info[3], info[4]);
}

struct GenerateOptions {
  int64_t maxTokens = 64;
  runtime::SamplingOptions sampling;
  std::vector<int32_t> stopIds;
};

GenerateOptions ReadGenerateOptions(const Napi::Object& o) {
  GenerateOptions g;
  g.maxTokens = static_cast<int64_t>(OptionalNumber(o, "maxTokens", 64));
  g.sampling.temperature = static_cast<float>(OptionalNumber(o, "temperature", 0.0));
  g.sampling.topK = static_cast<int64_t>(OptionalNumber(o, "topK", 0));
  g.sampling.topP = static_cast<float>(OptionalNumber(o, "topP", 1.0));
  g.sampling.seed = static_cast<uint64_t>(OptionalNumber(o, "seed", 0));
  if (o.Get("stopIds").IsTypedArray()) g.stopIds = IdsFrom(o.Get("stopIds"));
  return g;
}

struct Generation {
  int64_t promptTokens = 0;
  std::vector<int32_t> generated;
  std::string stopReason = "maxTokens";
  double prefillSeconds = 0.0, decodeSeconds = 0.0;
};

// Prefill the prompt, then decode one token at a time; each token is reported as soon as it exists.
Generation RunGenerate(const Model& model, const std::vector<int32_t>& prompt, const GenerateOptions& options,
                       const CancelFlag& cancel, const Report<int32_t>& report) {
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n == 0) throw std::runtime_error("generate: the prompt has no tokens");
  if (options.maxTokens < 0) throw std::runtime_error("generate: maxTokens must be >= 0");
  int64_t capacity = n + options.maxTokens;
  const int64_t limit = model.positionLimit();
  if (limit > 0 && n > limit) {
    throw std::runtime_error("generate: the prompt has " + std::to_string(n) + " tokens, the model runs at most " +
                             std::to_string(limit) + " (its " + model.positionLimitReason() + ")");
  }
  if (limit > 0) capacity = std::min(capacity, limit);
  const int64_t vocab = model.config().vocabSize;
  runtime::KvCache cache = model.NewCache(capacity);
  runtime::Sampler sampler(options.sampling);
  std::vector<float> logits(static_cast<size_t>(vocab));
  Generation g;
  g.promptTokens = n;
  if (options.maxTokens == 0) return g;
  auto started = Clock::now();
  model.Forward(prompt.data(), n, cache, logits.data(), false);
  g.prefillSeconds = Seconds(started);
  started = Clock::now();
  for (;;) {
    if (cancel.Raised()) {
      g.stopReason = "cancelled";
      break;
    }
    runtime::CheckFiniteLogits(model, logits.data(), vocab, "generate: the logits", prompt.data(),
                               static_cast<int64_t>(prompt.size()), g.generated);
    const int32_t next = sampler.Sample(logits.data(), vocab);
    g.generated.push_back(next);
    report(next);
    if (std::find(options.stopIds.begin(), options.stopIds.end(), next) != options.stopIds.end()) {
      g.stopReason = "eos";
      break;
    }
    if (static_cast<int64_t>(g.generated.size()) >= options.maxTokens) break;
    if (cache.length() >= cache.capacity()) {
      g.stopReason = "contextFull";
      break;
    }
    model.Forward(&next, 1, cache, logits.data(), false);
  }
  g.decodeSeconds = Seconds(started);
  return g;
}

Napi::Value Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "runtimeGenerate(handle, prompt, options, cancel, onToken)");
  JobSpec<Generation, int32_t> spec;
  spec.work = [model = ModelFrom(info[0]), prompt = IdsFrom(info[1]),
               options = ReadGenerateOptions(info[2].As<Napi::Object>())](const CancelFlag& cancel,
                                                                          const Report<int32_t>& report) {
    return RunGenerate(*model, prompt, options, cancel, report);
  };
  spec.toJs = [](Napi::Env jsEnv, Generation& g) -> Napi::Value {
    Napi::Object result = Napi::Object::New(jsEnv);
    Napi::Array tokens = Napi::Array::New(jsEnv, g.generated.size());
    for (size_t i = 0; i < g.generated.size(); ++i) tokens.Set(static_cast<uint32_t>(i), g.generated[i]);
    result.Set("tokens", tokens);
    result.Set("stopReason", g.stopReason);
    result.Set("promptTokens", static_cast<double>(g.promptTokens));
    result.Set("prefillSeconds", g.prefillSeconds);
    result.Set("decodeSeconds", g.decodeSeconds);
    return result;
  };
  spec.progressArgs = [](Napi::Env jsEnv, const int32_t& id) -> std::vector<napi_value> {
    return {Napi::Number::New(jsEnv, id)};
  };
  return bindings::RunAsync(env, std::move(spec), info[4], info[3]);
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeOpen", Napi::Function::New(env, Open, "runtimeOpen"));
  exports.Set("loraMerge", Napi::Function::New(env, LoraMerge, "loraMerge"));
  exports.Set("runtimeLogits", Napi::Function::New(env, Logits, "runtimeLogits"));
  exports.Set("runtimePerplexity", Napi::Function::New(env, Perplexity, "runtimePerplexity"));
  exports.Set("runtimeGenerate", Napi::Function::New(env, Generate, "runtimeGenerate"));
});

}  // namespace
}  // namespace quantstudio
