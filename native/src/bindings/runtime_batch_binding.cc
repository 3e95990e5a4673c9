// The runtime's batched calls (typed in native/lib/runtime.ts, run by runtime/batch.h); cancel: an Int32Array flag.
//   runtimeForwardBatch(handle, ids, batch, cancel) → Promise<{logits: Float32Array [batch × vocab], seconds}>
//   runtimeGenerateBatch(handle, prompts, batch, newTokens, cancel, onStep(done))
//     → Promise<{tokens: Int32Array [batch × newTokens], prefillSeconds, decodeSeconds}>
// Work runs off the JS thread (bindings/async_job.h); errors (and a raised cancel flag: "cancelled") reject the
// promise.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/async_job.h"
#include "bindings/runtime_handles.h"
#include "bindings/register.h"
#include "runtime/batch.h"

namespace quantstudio {
namespace {

using bindings::IdsFrom;
using bindings::ModelFrom;
using bindings::ModelPtr;

/** A whole number argument; range checks are the engine's (runtime/batch.cc), so the messages live in one place. */
int64_t IntegerArg(const Napi::Value& v, const char* call, const char* name) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d) {
    throw Napi::TypeError::New(
        v.Env(), std::string(call) + ": " + name + " must be an integer, got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

Napi::Value ForwardBatch(const Napi::CallbackInfo& info) {
  bindings::JobSpec<runtime::BatchForwardResult, int64_t> spec;
  spec.work = [model = ModelFrom(info[0]), ids = IdsFrom(info[1]),
               batch = IntegerArg(info[2], "forwardBatch", "batch")](const bindings::CancelFlag& cancel,
                                                                     const bindings::Report<int64_t>&) {
    return runtime::ForwardBatch(*model, ids.data(), static_cast<int64_t>(ids.size()), batch, cancel.word());
  };
  spec.toJs = [](Napi::Env env, runtime::BatchForwardResult& result) -> Napi::Value {
    Napi::Float32Array logits = Napi::Float32Array::New(env, result.logits.size());
    std::copy(result.logits.begin(), result.logits.end(), logits.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("logits", logits);
    out.Set("seconds", result.seconds);
    return out;
  };
  return bindings::RunAsync(info.Env(), std::move(spec), info.Env().Undefined(), info[3]);
}

// Steps are reported as the count of tokens produced per sequence so far.
Napi::Value GenerateBatch(const Napi::CallbackInfo& info) {
  bindings::JobSpec<runtime::BatchGenerateResult, int64_t> spec;
  spec.work = [model = ModelFrom(info[0]), prompts = IdsFrom(info[1]),
               batch = IntegerArg(info[2], "generateBatch", "batch"),
               newTokens = IntegerArg(info[3], "generateBatch", "newTokens")](const bindings::CancelFlag& cancel,
                                                                              const bindings::Report<int64_t>& report) {
    return runtime::GenerateBatch(*model, prompts.data(), static_cast<int64_t>(prompts.size()), batch, newTokens,
                                  cancel.word(), report);
  };
  spec.toJs = [](Napi::Env env, runtime::BatchGenerateResult& result) -> Napi::Value {
    Napi::Int32Array tokens = Napi::Int32Array::New(env, result.tokens.size());
    std::copy(result.tokens.begin(), result.tokens.end(), tokens.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("tokens", tokens);
    out.Set("prefillSeconds", result.prefillSeconds);
    out.Set("decodeSeconds", result.decodeSeconds);
    return out;
  };
  spec.progressArgs = [](Napi::Env env, const int64_t& done) -> std::vector<napi_value> {
    return {Napi::Number::New(env, static_cast<double>(done))};
  };
  return bindings::RunAsync(info.Env(), std::move(spec), info[5], info[4]);
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeForwardBatch", Napi::Function::New(env, ForwardBatch, "runtimeForwardBatch"));
  exports.Set("runtimeGenerateBatch", Napi::Function::New(env, GenerateBatch, "runtimeGenerateBatch"));
});

}  // namespace
}  // namespace quantstudio
