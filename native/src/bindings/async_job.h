// The one form of every asynchronous binding: the work runs off the JS thread and the call returns a Promise.
// Progress payloads of the job's own type go, one per Report, to an optional JS listener; a listener that
// throws raises the cancel flag and hears nothing more. The flag is the one cancel mechanism (core/cancel.h: cancel[0]
// of an Int32Array). What the work throws becomes the rejection with its message (quant::Cancelled: "cancelled"), so no
// C++ exception crosses into JS.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/cancel.h"
#include "quant/job.h"

namespace quantstudio::bindings {

/** A job's cancel flag: cancel[0] of the Int32Array JS passed, or a word of its own when JS passed none. */
class CancelFlag {
 public:
  /** Any value that is not an Int32Array of at least one element gives a flag only a throwing listener raises. */
  explicit CancelFlag(const Napi::Value& value) {
    if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array &&
        value.As<Napi::Int32Array>().ElementLength() >= 1) {
      array_ = Napi::Persistent(value.As<Napi::Object>());  // keeps the word's memory alive while the job runs
      word_ = value.As<Napi::Int32Array>().Data();
    }
  }

  CancelFlag(const CancelFlag&) = delete;  // word_ may point at own_
  CancelFlag& operator=(const CancelFlag&) = delete;

  /** The word the engines poll (quant::JobContext::cancel, the runtime's `cancel`). */
  const int32_t* word() const { return word_; }
  bool Raised() const { return CancelRaised(word_); }
  /** Throws the project's cancellation; the job then rejects with "cancelled". */
  void Check() const {
    if (Raised()) throw quant::Cancelled();
  }
  /** The JS thread's way to stop the job (a listener threw). */
  void Raise() { __atomic_store_n(word_, 1, __ATOMIC_RELAXED); }

 private:
  Napi::ObjectReference array_;
  int32_t own_ = 0;
  int32_t* word_ = &own_;
};

template <typename Progress>
using Report = std::function<void(const Progress&)>;

/** A job's description: Work(cancel, report) runs on a worker thread and returns the Result; ToJs builds the
 *  resolved value; ProgressArgs gives the listener's arguments for one payload. */
template <typename Result, typename Progress>
struct JobSpec {
  std::function<Result(const CancelFlag&, const Report<Progress>&)> work;
  std::function<Napi::Value(Napi::Env, Result&)> toJs;
  std::function<std::vector<napi_value>(Napi::Env, const Progress&)> progressArgs;
};

template <typename Result, typename Progress>
class AsyncJob : public Napi::AsyncProgressQueueWorker<Progress> {
  using Base = Napi::AsyncProgressQueueWorker<Progress>;

 public:
  AsyncJob(Napi::Env env, JobSpec<Result, Progress> spec, const Napi::Value& onProgress, const Napi::Value& cancel)
      : Base(env), deferred_(Napi::Promise::Deferred::New(env)), spec_(std::move(spec)), cancel_(cancel) {
    if (onProgress.IsFunction() && spec_.progressArgs) listener_ = Napi::Persistent(onProgress.As<Napi::Function>());
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const typename Base::ExecutionProgress& progress) override {
    try {
      const Report<Progress> report = [&progress](const Progress& p) { progress.Send(&p, 1); };
      result_.emplace(spec_.work(cancel_, report));
    } catch (const std::exception& e) {
      this->SetError(e.what());
    } catch (...) {
      this->SetError("unknown native error");
    }
  }

  void OnProgress(const Progress* data, size_t count) override {
    if (listener_.IsEmpty()) return;
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    for (size_t i = 0; i < count; ++i) {
      try {
        listener_.Call(spec_.progressArgs(env, data[i]));
      } catch (const Napi::Error&) {
        cancel_.Raise();
        listener_.Reset();  // events already queued are not delivered to a listener that failed
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = this->Env();
    try {
      deferred_.Resolve(spec_.toJs(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  JobSpec<Result, Progress> spec_;
  CancelFlag cancel_;
  Napi::FunctionReference listener_;
  std::optional<Result> result_;
};

/** Queues the job and returns its Promise. `onProgress` and `cancel` may be undefined. */
template <typename Result, typename Progress>
Napi::Promise RunAsync(Napi::Env env, JobSpec<Result, Progress> spec, const Napi::Value& onProgress,
                       const Napi::Value& cancel) {
  auto* job = new AsyncJob<Result, Progress>(env, std::move(spec), onProgress, cancel);  // deletes itself when done
  Napi::Promise promise = job->Promise();
  job->Queue();
  return promise;
}

/** The (done, total) payload of the quantizers, writers and perplexity, given to JS as two numbers. */
struct Steps {
  int64_t done = 0, total = 0;
};

inline std::vector<napi_value> StepsArgs(Napi::Env env, const Steps& s) {
  return {Napi::Number::New(env, static_cast<double>(s.done)), Napi::Number::New(env, static_cast<double>(s.total))};
}

}  // namespace quantstudio::bindings
