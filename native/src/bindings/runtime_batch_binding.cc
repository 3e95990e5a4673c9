// The runtime's batched calls (typed in native/lib/runtime.ts, run by runtime/batch.h):
//   runtimeForwardBatch(handle, ids, batch, cancelFlag) → Promise<{logits: Float32Array [batch × vocab], seconds}>
//   runtimeGenerateBatch(handle, prompts, batch, newTokens, cancelFlag, onStep(done))
//     → Promise<{tokens: Int32Array [batch × newTokens], prefillSeconds, decodeSeconds}>
// Work runs off the JS thread; errors (and a raised cancel flag: "cancelled") reject the promise.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/runtime_handles.h"
#include "bindings/register.h"
#include "runtime/batch.h"

namespace quantstudio {
namespace {

using bindings::CancelFlag;
using bindings::CancelFrom;
using bindings::IdsFrom;
using bindings::ModelFrom;
using bindings::ModelPtr;

/** A whole number argument; range checks are the engine's (runtime/batch.cc), so the messages live in one place. */
int64_t IntegerArg(const Napi::Value& v, const char* call, const char* name) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || std::floor(d) != d) {
    throw Napi::TypeError::New(v.Env(), std::string(call) + ": " + name + " must be an integer, got " +
                                            v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

class ForwardBatchWorker : public Napi::AsyncWorker {
 public:
  ForwardBatchWorker(Napi::Env env, ModelPtr model, std::vector<int32_t> ids, int64_t batch, CancelFlag cancel)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), model_(std::move(model)),
        ids_(std::move(ids)), batch_(batch), cancel_(std::move(cancel)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      result_ = runtime::ForwardBatch(*model_, ids_.data(), static_cast<int64_t>(ids_.size()), batch_, cancel_.get());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Float32Array logits = Napi::Float32Array::New(env, result_.logits.size());
    std::copy(result_.logits.begin(), result_.logits.end(), logits.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("logits", logits);
    out.Set("seconds", result_.seconds);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelPtr model_;
  std::vector<int32_t> ids_;
  int64_t batch_;
  CancelFlag cancel_;
  runtime::BatchForwardResult result_;
};

Napi::Value ForwardBatch(const Napi::CallbackInfo& info) {
  auto* worker = new ForwardBatchWorker(info.Env(), ModelFrom(info[0]), IdsFrom(info[1]),
                                        IntegerArg(info[2], "forwardBatch", "batch"), CancelFrom(info[3]));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Steps are reported as the count done; JS sees only the latest count of each delivery, so a slow
// listener is throttled instead of queued behind.
class GenerateBatchWorker : public Napi::AsyncProgressQueueWorker<int64_t> {
 public:
  GenerateBatchWorker(Napi::Env env, ModelPtr model, std::vector<int32_t> prompts, int64_t batch, int64_t newTokens,
                      CancelFlag cancel, Napi::Function onStep)
      : Napi::AsyncProgressQueueWorker<int64_t>(env), deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)), prompts_(std::move(prompts)), batch_(batch), newTokens_(newTokens),
        cancel_(std::move(cancel)) {
    if (!onStep.IsEmpty()) onStep_ = Napi::Persistent(onStep);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      result_ = runtime::GenerateBatch(*model_, prompts_.data(), static_cast<int64_t>(prompts_.size()), batch_,
                                       newTokens_, cancel_.get(), [&](int64_t done) { progress.Send(&done, 1); });
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnProgress(const int64_t* data, size_t count) override {
    if (onStep_.IsEmpty() || count == 0) return;
    Napi::HandleScope scope(Env());
    try {
      onStep_.Call({Napi::Number::New(Env(), static_cast<double>(data[count - 1]))});
    } catch (const Napi::Error&) {
      cancel_->store(true);  // a throwing listener stops the run
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Int32Array tokens = Napi::Int32Array::New(env, result_.tokens.size());
    std::copy(result_.tokens.begin(), result_.tokens.end(), tokens.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("tokens", tokens);
    out.Set("prefillSeconds", result_.prefillSeconds);
    out.Set("decodeSeconds", result_.decodeSeconds);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelPtr model_;
  std::vector<int32_t> prompts_;
  int64_t batch_, newTokens_;
  CancelFlag cancel_;
  Napi::FunctionReference onStep_;
  runtime::BatchGenerateResult result_;
};

Napi::Value GenerateBatch(const Napi::CallbackInfo& info) {
  Napi::Function onStep = info[5].IsFunction() ? info[5].As<Napi::Function>() : Napi::Function();
  auto* worker = new GenerateBatchWorker(info.Env(), ModelFrom(info[0]), IdsFrom(info[1]),
                                         IntegerArg(info[2], "generateBatch", "batch"),
                                         IntegerArg(info[3], "generateBatch", "newTokens"), CancelFrom(info[4]), onStep);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeForwardBatch", Napi::Function::New(env, ForwardBatch, "runtimeForwardBatch"));
  exports.Set("runtimeGenerateBatch", Napi::Function::New(env, GenerateBatch, "runtimeGenerateBatch"));
});

}  // namespace
}  // namespace quantstudio
