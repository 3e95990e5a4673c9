// Runs a quantizer off the JS thread: returns a Promise, reports (done, total) progress to an optional
// JS callback, and stops when JS sets cancel[0] (an Int32Array) to non-zero. The work function sees a
// progress hook that returns false once cancellation was asked for.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "quant/group_quant.h"

namespace quantstudio::bindings {

using ProgressHook = std::function<bool(int64_t done, int64_t total)>;

template <typename Result>
class QuantJob : public Napi::AsyncProgressQueueWorker<std::pair<int64_t, int64_t>> {
 public:
  using Work = std::function<Result(const ProgressHook&)>;
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;
  // Returns the failure message of a finished result, or "" when it succeeded.
  using Failure = std::function<std::string(const Result&)>;

  QuantJob(Napi::Env env, Work work, ToJs toJs, Failure failure, Napi::Value onProgress, Napi::Value cancel)
      : Napi::AsyncProgressQueueWorker<std::pair<int64_t, int64_t>>(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        toJs_(std::move(toJs)),
        failure_(std::move(failure)) {
    if (onProgress.IsFunction()) onProgress_ = Napi::Persistent(onProgress.As<Napi::Function>());
    if (cancel.IsTypedArray() && cancel.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array &&
        cancel.As<Napi::Int32Array>().ElementLength() >= 1) {
      cancelRef_ = Napi::Persistent(cancel.As<Napi::Object>());
      cancelFlag_ = cancel.As<Napi::Int32Array>().Data();
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    const ProgressHook hook = [&](int64_t done, int64_t total) {
      const std::pair<int64_t, int64_t> step(done, total);
      progress.Send(&step, 1);
      return !(cancelFlag_ && __atomic_load_n(cancelFlag_, __ATOMIC_RELAXED) != 0);
    };
    result_ = std::make_unique<Result>(work_(hook));
  }

  void OnProgress(const std::pair<int64_t, int64_t>* data, size_t count) override {
    if (onProgress_.IsEmpty() || count == 0) return;
    Napi::Env env = Env();
    onProgress_.Call({Napi::Number::New(env, static_cast<double>(data->first)),
                      Napi::Number::New(env, static_cast<double>(data->second))});
  }

  void OnOK() override {
    Napi::Env env = Env();
    const std::string failure = failure_(*result_);
    if (!failure.empty()) {
      deferred_.Reject(Napi::Error::New(env, failure).Value());
      return;
    }
    deferred_.Resolve(toJs_(env, *result_));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs toJs_;
  Failure failure_;
  Napi::FunctionReference onProgress_;
  Napi::ObjectReference cancelRef_;  // keeps the flag's memory alive while the job runs
  int32_t* cancelFlag_ = nullptr;
  std::unique_ptr<Result> result_;
};

/** The JS form of a GroupQuantized: typed arrays over copies of its buffers. */
inline Napi::Object GroupQuantizedToJs(Napi::Env env, const quant::GroupQuantized& g) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("rows", static_cast<double>(g.rows));
  o.Set("cols", static_cast<double>(g.cols));
  o.Set("bits", g.bits);
  o.Set("groupSize", static_cast<double>(g.groupSize));
  Napi::Uint8Array q = Napi::Uint8Array::New(env, g.q.size());
  std::copy(g.q.begin(), g.q.end(), q.Data());
  Napi::Float32Array scales = Napi::Float32Array::New(env, g.scales.size());
  std::copy(g.scales.begin(), g.scales.end(), scales.Data());
  Napi::Int32Array zeros = Napi::Int32Array::New(env, g.zeros.size());
  std::copy(g.zeros.begin(), g.zeros.end(), zeros.Data());
  Napi::Int32Array gIdx = Napi::Int32Array::New(env, g.gIdx.size());
  std::copy(g.gIdx.begin(), g.gIdx.end(), gIdx.Data());
  o.Set("q", q);
  o.Set("scales", scales);
  o.Set("zeros", zeros);
  o.Set("gIdx", gIdx);
  return o;
}

/** Copies a Float32Array argument; throws a TypeError naming `what` otherwise. */
inline std::vector<float> CopyFloat32(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a Float32Array");
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  return std::vector<float>(array.Data(), array.Data() + array.ElementLength());
}

inline int64_t PositiveInteger(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a number");
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 1.0) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(value.Env(), std::string(what) + " must be a positive integer");
  return static_cast<int64_t>(d);
}

/** Reads an optional option: returns `fallback` when absent or undefined. */
inline double OptionNumber(const Napi::Object& options, const char* key, double fallback) {
  if (!options.Has(key)) return fallback;
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool OptionBool(const Napi::Object& options, const char* key, bool fallback) {
  if (!options.Has(key)) return fallback;
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(options.Env(), std::string("option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace quantstudio::bindings
