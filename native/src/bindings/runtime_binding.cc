// The runtime's JS surface (typed in native/lib/runtime.ts):
//   runtimeOpen(folder, config) → handle            (sync: mapping + shape checks only)
//   runtimeLogits(handle, ids) → Promise<Float32Array [m × vocab]>
//   runtimePerplexity(handle, ids, seq, onProgress(done, total)) → Promise<{nll, tokens, windows}>
//   runtimeGenerate(handle, prompt, options, cancelFlag, onToken(id)) → Promise<GenerateResult>
//   runtimeCancelFlag() → flag; runtimeCancel(flag)
//   (the batched calls, runtimeForwardBatch and runtimeGenerateBatch, are in runtime_batch_binding.cc)
// Work runs off the JS thread; errors reject the promise with the engine's message.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings/model_config_js.h"
#include "bindings/runtime_handles.h"
#include "bindings/register.h"
#include "kernels/elementwise.h"
#include "runtime/model.h"
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
  if (family == "llama") c.family = runtime::Family::Llama;
  else if (family == "opt") c.family = runtime::Family::Opt;
  else throw Napi::TypeError::New(o.Env(), "model config: family must be \"llama\" or \"opt\", got \"" + family + "\"");
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
  c.normOffset = OptionalBool(o, "normOffset", false);
  c.sandwichNorms = OptionalBool(o, "sandwichNorms", false);
  c.geluTanh = OptionalBool(o, "geluTanh", false);
  c.scaleEmbeddings = OptionalBool(o, "scaleEmbeddings", false);
  c.attentionScale = OptionalNumber(o, "attentionScale", 0.0);
  c.attentionSoftcap = OptionalNumber(o, "attentionSoftcap", 0.0);
  c.finalSoftcap = OptionalNumber(o, "finalSoftcap", 0.0);
  c.tieWordEmbeddings = OptionalBool(o, "tieWordEmbeddings", false);
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

CancelFlag CancelFrom(const Napi::Value& v) {
  if (v.IsExternal()) return *v.As<Napi::External<CancelFlag>>().Data();
  return std::make_shared<std::atomic<bool>>(false);
}

}  // namespace bindings

namespace {

using bindings::OptionalBool;

/** Where a sequence's numbers first went non-finite, for the message: one extra forward, only on failure. */
std::string FirstBadStage(const runtime::Model& model, const std::vector<int32_t>& ids) {
  const int64_t layers = model.config().layers;
  const int64_t stage = model.FirstNonFiniteStage(ids.data(), static_cast<int64_t>(ids.size()));
  if (stage < 0) return "; first in the token embeddings";
  if (stage < layers) return "; first in the output of layer " + std::to_string(stage) + " (model.layers." + std::to_string(stage) + ")";
  if (stage == layers) return "; first in the final norm or lm_head";
  return "";
}

/** Sampling from NaN or infinite logits emits arbitrary tokens; generation stops with an error instead. */
void CheckFinite(const std::vector<float>& logits, const runtime::Model& model, const std::vector<int32_t>& prompt,
                 const std::vector<int32_t>& generated) {
  const auto bad = std::find_if(logits.begin(), logits.end(), [](float x) { return !std::isfinite(x); });
  if (bad == logits.end()) return;
  std::vector<int32_t> ids(prompt);
  ids.insert(ids.end(), generated.begin(), generated.end());
  const std::string where = generated.empty() ? "after the prompt" : "after " + std::to_string(generated.size()) + " generated tokens";
  throw std::runtime_error("generate: the logits are not finite (" + std::to_string(*bad) + " at vocabulary index " +
                           std::to_string(bad - logits.begin()) + ") " + where + FirstBadStage(model, ids) +
                           "; the weights hold NaN or Inf values, or the activations overflow");
}
using bindings::OptionalNumber;
using bindings::ReadModelConfig;
using bindings::RequireInt;

using bindings::CancelFlag;
using bindings::CancelFrom;
using bindings::IdsFrom;
using bindings::ModelFrom;
using bindings::ModelPtr;
using runtime::Model;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsObject()) throw Napi::TypeError::New(env, "runtimeOpen(folder, config)");
  try {
    auto* holder = new ModelPtr(Model::Load(info[0].As<Napi::String>().Utf8Value(), ReadModelConfig(info[1].As<Napi::Object>())));
    return Napi::External<ModelPtr>::New(env, holder, [](Napi::Env, ModelPtr* p) { delete p; });
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

class LogitsWorker : public Napi::AsyncWorker {
 public:
  LogitsWorker(Napi::Env env, ModelPtr model, std::vector<int32_t> ids)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), model_(std::move(model)), ids_(std::move(ids)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      const int64_t m = static_cast<int64_t>(ids_.size());
      if (m == 0) throw std::runtime_error("logits: the id list is empty");
      runtime::KvCache cache = model_->NewCache(m);
      logits_.resize(static_cast<size_t>(m * model_->config().vocabSize));
      model_->Forward(ids_.data(), m, cache, logits_.data(), true);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Float32Array out = Napi::Float32Array::New(Env(), logits_.size());
    std::copy(logits_.begin(), logits_.end(), out.Data());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelPtr model_;
  std::vector<int32_t> ids_;
  std::vector<float> logits_;
};

Napi::Value Logits(const Napi::CallbackInfo& info) {
  auto* worker = new LogitsWorker(info.Env(), ModelFrom(info[0]), IdsFrom(info[1]));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

struct WindowProgress {
  int64_t done;
  int64_t total;
};

// Perplexity protocol: consecutive non-overlapping windows of `seq` inputs; window i predicts
// ids[i*seq+1 .. i*seq+seq]; the last, partial window counts too.
class PerplexityWorker : public Napi::AsyncProgressQueueWorker<WindowProgress> {
 public:
  PerplexityWorker(Napi::Env env, ModelPtr model, std::vector<int32_t> ids, int64_t seq, Napi::Function onProgress,
                   CancelFlag cancel)
      : Napi::AsyncProgressQueueWorker<WindowProgress>(env), deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)), ids_(std::move(ids)), seq_(seq), cancel_(std::move(cancel)) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      const int64_t n = static_cast<int64_t>(ids_.size());
      if (seq_ <= 0) throw std::runtime_error("perplexity: seq must be positive");
      if (n < 2) throw std::runtime_error("perplexity needs at least 2 tokens, got " + std::to_string(n));
      const int64_t vocab = model_->config().vocabSize;
      const int64_t windows = (n - 1 + seq_ - 1) / seq_;
      runtime::KvCache cache = model_->NewCache(seq_);
      std::vector<float> logits(static_cast<size_t>(seq_ * vocab));
      for (int64_t w = 0; w < windows; ++w) {
        if (cancel_ && cancel_->load()) throw std::runtime_error("perplexity cancelled");
        const int64_t start = w * seq_;
        const int64_t len = std::min(seq_, n - 1 - start);
        cache.Clear();
        model_->Forward(ids_.data() + start, len, cache, logits.data(), true);
        for (int64_t i = 0; i < len; ++i) {
          nll_ += kernels::NegLogLikelihood(logits.data() + i * vocab, vocab, ids_[static_cast<size_t>(start + i + 1)]);
        }
        tokens_ += len;
        WindowProgress p{w + 1, windows};
        progress.Send(&p, 1);
      }
      windows_ = windows;
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnProgress(const WindowProgress* data, size_t count) override {
    if (onProgress_.IsEmpty() || count == 0) return;
    Napi::HandleScope scope(Env());
    try {
      onProgress_.Call({Napi::Number::New(Env(), static_cast<double>(data[count - 1].done)),
                        Napi::Number::New(Env(), static_cast<double>(data[count - 1].total))});
    } catch (const Napi::Error&) {
      if (cancel_) cancel_->store(true);  // a throwing callback stops the run
    }
  }
  void OnOK() override {
    Napi::Object result = Napi::Object::New(Env());
    result.Set("nll", nll_);
    result.Set("tokens", static_cast<double>(tokens_));
    result.Set("windows", static_cast<double>(windows_));
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelPtr model_;
  std::vector<int32_t> ids_;
  int64_t seq_;
  CancelFlag cancel_;
  Napi::FunctionReference onProgress_;
  double nll_ = 0.0;
  int64_t tokens_ = 0, windows_ = 0;
};

Napi::Value Perplexity(const Napi::CallbackInfo& info) {
  Napi::Function onProgress = info[3].IsFunction() ? info[3].As<Napi::Function>() : Napi::Function();
  auto* worker = new PerplexityWorker(info.Env(), ModelFrom(info[0]), IdsFrom(info[1]),
                                      info[2].ToNumber().Int64Value(), onProgress, CancelFrom(info[4]));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
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

// Prefill the prompt, then decode one token at a time; each token is sent to JS as soon as it exists.
class GenerateWorker : public Napi::AsyncProgressQueueWorker<int32_t> {
 public:
  GenerateWorker(Napi::Env env, ModelPtr model, std::vector<int32_t> prompt, GenerateOptions options,
                 CancelFlag cancel, Napi::Function onToken)
      : Napi::AsyncProgressQueueWorker<int32_t>(env), deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)), prompt_(std::move(prompt)), options_(std::move(options)), cancel_(std::move(cancel)) {
    if (!onToken.IsEmpty()) onToken_ = Napi::Persistent(onToken);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      Run(progress);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnProgress(const int32_t* data, size_t count) override {
    if (onToken_.IsEmpty()) return;
    Napi::HandleScope scope(Env());
    for (size_t i = 0; i < count; ++i) {
      try {
        onToken_.Call({Napi::Number::New(Env(), data[i])});
      } catch (const Napi::Error&) {
        cancel_->store(true);  // a throwing callback stops generation
        return;
      }
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    Napi::Array tokens = Napi::Array::New(env, generated_.size());
    for (size_t i = 0; i < generated_.size(); ++i) tokens.Set(static_cast<uint32_t>(i), generated_[i]);
    result.Set("tokens", tokens);
    result.Set("stopReason", stopReason_);
    result.Set("promptTokens", static_cast<double>(prompt_.size()));
    result.Set("prefillSeconds", prefillSeconds_);
    result.Set("decodeSeconds", decodeSeconds_);
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  void Run(const ExecutionProgress& progress) {
    const int64_t n = static_cast<int64_t>(prompt_.size());
    if (n == 0) throw std::runtime_error("generate: the prompt has no tokens");
    if (options_.maxTokens < 0) throw std::runtime_error("generate: maxTokens must be >= 0");
    int64_t capacity = n + options_.maxTokens;
    const int64_t limit = model_->positionLimit();
    if (limit > 0 && n > limit) {
      throw std::runtime_error("generate: the prompt has " + std::to_string(n) + " tokens, the model runs at most " +
                               std::to_string(limit) + " (its " + model_->positionLimitReason() + ")");
    }
    if (limit > 0) capacity = std::min(capacity, limit);
    const int64_t vocab = model_->config().vocabSize;
    runtime::KvCache cache = model_->NewCache(capacity);
    runtime::Sampler sampler(options_.sampling);
    std::vector<float> logits(static_cast<size_t>(vocab));
    stopReason_ = "maxTokens";
    if (options_.maxTokens == 0) return;
    auto started = Clock::now();
    model_->Forward(prompt_.data(), n, cache, logits.data(), false);
    prefillSeconds_ = Seconds(started);
    started = Clock::now();
    for (;;) {
      if (cancel_->load()) {
        stopReason_ = "cancelled";
        break;
      }
      CheckFinite(logits, *model_, prompt_, generated_);
      const int32_t next = sampler.Sample(logits.data(), vocab);
      generated_.push_back(next);
      progress.Send(&next, 1);
      if (std::find(options_.stopIds.begin(), options_.stopIds.end(), next) != options_.stopIds.end()) {
        stopReason_ = "eos";
        break;
      }
      if (static_cast<int64_t>(generated_.size()) >= options_.maxTokens) break;
      if (cache.length() >= cache.capacity()) {
        stopReason_ = "contextFull";
        break;
      }
      model_->Forward(&next, 1, cache, logits.data(), false);
    }
    decodeSeconds_ = Seconds(started);
  }

  Napi::Promise::Deferred deferred_;
  ModelPtr model_;
  std::vector<int32_t> prompt_;
  GenerateOptions options_;
  CancelFlag cancel_;
  Napi::FunctionReference onToken_;
  std::vector<int32_t> generated_;
  std::string stopReason_;
  double prefillSeconds_ = 0.0, decodeSeconds_ = 0.0;
};

Napi::Value Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "runtimeGenerate(handle, prompt, options, cancel, onToken)");
  Napi::Function onToken = info[4].IsFunction() ? info[4].As<Napi::Function>() : Napi::Function();
  auto* worker = new GenerateWorker(env, ModelFrom(info[0]), IdsFrom(info[1]),
                                    ReadGenerateOptions(info[2].As<Napi::Object>()), CancelFrom(info[3]), onToken);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value NewCancelFlag(const Napi::CallbackInfo& info) {
  auto* flag = new CancelFlag(std::make_shared<std::atomic<bool>>(false));
  return Napi::External<CancelFlag>::New(info.Env(), flag, [](Napi::Env, CancelFlag* p) { delete p; });
}

Napi::Value Cancel(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "runtimeCancel(flag)");
  (*info[0].As<Napi::External<CancelFlag>>().Data())->store(true);
  return info.Env().Undefined();
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeOpen", Napi::Function::New(env, Open, "runtimeOpen"));
  exports.Set("runtimeLogits", Napi::Function::New(env, Logits, "runtimeLogits"));
  exports.Set("runtimePerplexity", Napi::Function::New(env, Perplexity, "runtimePerplexity"));
  exports.Set("runtimeGenerate", Napi::Function::New(env, Generate, "runtimeGenerate"));
  exports.Set("runtimeCancelFlag", Napi::Function::New(env, NewCancelFlag, "runtimeCancelFlag"));
  exports.Set("runtimeCancel", Napi::Function::New(env, Cancel, "runtimeCancel"));
});

}  // namespace
}  // namespace quantstudio
