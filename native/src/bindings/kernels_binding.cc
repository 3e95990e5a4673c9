// Kernel entry points for tests and benchmarks (typed in native/lib/runtime.ts):
//   kernelsMatMul(x, m, w, dtype, n, k, bias|null, reference) → Float32Array [m × n]
//   kernelsMatMulTransposedA(a, lda, m, b, ldb, n, k) → Float32Array [m × n] = AᵀB (a: k rows of lda, b: k of ldb)
//   kernelsAttention(q, m, pos0, kCache, vCache, {heads, kvHeads, headDim, capacity, window?}, scale, reference) →
//   Float32Array kernelsSoftmax(x, reference) → Float32Array;  kernelsNll(logits, target, reference) → number
//   kernelsMachinePeak(seconds) → {gflops, memcpyGBs, threads, avx2, simd}
//   kernelsSimd() → {cpu, active, available: [levels this CPU runs, lowest first]}
//   kernelsSetSimdLevel(level) → the cap before (kernels then run at min(level, the CPU's best))
#include <napi.h>

#include <algorithm>
#include <string>

#include "bindings/register.h"
#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/cpu.h"
#include "kernels/elementwise.h"
#include "kernels/machine_peak.h"
#include "kernels/matmul.h"

namespace quantstudio::kernels {
namespace {

Napi::Float32Array Floats(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

Napi::Uint16Array Halves(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Uint16Array like the other cache");
  }
  return v.As<Napi::Uint16Array>();
}

Napi::Value MatMulJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array x = Floats(info[0], "x");
  const int64_t m = info[1].ToNumber().Int64Value();
  Napi::TypedArray w = info[2].As<Napi::TypedArray>();
  DType dtype;
  if (!ParseDType(info[3].ToString().Utf8Value(), &dtype)) throw Napi::TypeError::New(env, "unknown dtype");
  const int64_t n = info[4].ToNumber().Int64Value(), k = info[5].ToNumber().Int64Value();
  const float* bias = info[6].IsTypedArray() ? Floats(info[6], "bias").Data() : nullptr;
  const bool reference = info[7].ToBoolean().Value();
  if (static_cast<int64_t>(x.ElementLength()) != m * k ||
      static_cast<int64_t>(w.ByteLength()) != n * k * static_cast<int64_t>(DTypeSize(dtype))) {
    throw Napi::RangeError::New(env, "kernelsMatMul: x must hold m×k floats and w n×k elements");
  }
  const uint8_t* wData = static_cast<const uint8_t*>(w.ArrayBuffer().Data()) + w.ByteOffset();
  Napi::Float32Array y = Napi::Float32Array::New(env, static_cast<size_t>(m * n));
  const MatrixRef ref{dtype, wData, n, k};
  try {
    if (reference)
      MatMulReference(x.Data(), m, ref, bias, y.Data());
    else
      MatMul(x.Data(), m, ref, bias, y.Data());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return y;
}

Napi::Value MatMulTransposedAJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Float32Array a = Floats(info[0], "a"), b = Floats(info[3], "b");
  const int64_t lda = info[1].ToNumber().Int64Value(), m = info[2].ToNumber().Int64Value();
  const int64_t ldb = info[4].ToNumber().Int64Value(), n = info[5].ToNumber().Int64Value();
  const int64_t k = info[6].ToNumber().Int64Value();
  if (m <= 0 || n <= 0 || k <= 0 || lda < m || ldb < n || static_cast<int64_t>(a.ElementLength()) < k * lda ||
      static_cast<int64_t>(b.ElementLength()) < k * ldb) {
    throw Napi::RangeError::New(env, "kernelsMatMulTransposedA: a must hold k×lda floats (lda ≥ m), b k×ldb (ldb ≥ n)");
  }
  Napi::Float32Array y = Napi::Float32Array::New(env, static_cast<size_t>(m * n));
  MatMulTransposedA(a.Data(), lda, m, b.Data(), ldb, n, k, y.Data(), n);
  return y;
}

Napi::Value AttentionJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array q = Floats(info[0], "q");
  const int64_t m = info[1].ToNumber().Int64Value(), pos0 = info[2].ToNumber().Int64Value();
  // Float32Array caches are fp32, Uint16Array caches fp16 (IEEE half bits).
  const bool halves = info[3].IsTypedArray() && info[3].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  const KvRows kv = halves ? KvRows{DType::F16, Halves(info[3], "kCache").Data(), Halves(info[4], "vCache").Data()}
                           : KvRows{DType::F32, Floats(info[3], "kCache").Data(), Floats(info[4], "vCache").Data()};
  const size_t kLength = info[3].As<Napi::TypedArray>().ElementLength(),
               vLength = info[4].As<Napi::TypedArray>().ElementLength();
  Napi::Object s = info[5].As<Napi::Object>();
  AttentionShape shape{s.Get("heads").ToNumber().Int64Value(), s.Get("kvHeads").ToNumber().Int64Value(),
                       s.Get("headDim").ToNumber().Int64Value(), s.Get("capacity").ToNumber().Int64Value(),
                       s.Has("window") ? s.Get("window").ToNumber().Int64Value() : 0};
  const float scale = info[6].ToNumber().FloatValue();
  const bool reference = info[7].ToBoolean().Value();
  const int64_t cacheSize = shape.kvHeads * shape.capacity * shape.headDim;
  if (static_cast<int64_t>(q.ElementLength()) != m * shape.heads * shape.headDim ||
      static_cast<int64_t>(kLength) != cacheSize || static_cast<int64_t>(vLength) != cacheSize ||
      pos0 + m > shape.capacity || shape.kvHeads <= 0 || shape.heads % shape.kvHeads != 0) {
    throw Napi::RangeError::New(env, "kernelsAttention: buffer sizes do not match the shape");
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, q.ElementLength());
  if (reference)
    AttentionReference(q.Data(), m, pos0, kv, shape, scale, out.Data());
  else
    Attention(q.Data(), m, pos0, kv, shape, scale, out.Data());
  return out;
}

Napi::Value SoftmaxJs(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = Floats(info[0], "x");
  if (x.ElementLength() == 0) throw Napi::RangeError::New(info.Env(), "kernelsSoftmax: x is empty");
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), x.ElementLength());
  std::copy(x.Data(), x.Data() + x.ElementLength(), out.Data());
  const int64_t n = static_cast<int64_t>(x.ElementLength());
  if (info[1].ToBoolean().Value())
    SoftmaxReference(out.Data(), n);
  else
    Softmax(out.Data(), n);
  return out;
}

Napi::Value NllJs(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = Floats(info[0], "logits");
  const int64_t target = info[1].ToNumber().Int64Value();
  if (target < 0 || target >= static_cast<int64_t>(x.ElementLength())) {
    throw Napi::RangeError::New(info.Env(), "kernelsNll: target outside the logits");
  }
  const int64_t n = static_cast<int64_t>(x.ElementLength());
  const int32_t t = static_cast<int32_t>(target);
  return Napi::Number::New(info.Env(), info[2].ToBoolean().Value() ? NegLogLikelihoodReference(x.Data(), n, t)
                                                                   : NegLogLikelihood(x.Data(), n, t));
}

Napi::Value MachinePeakJs(const Napi::CallbackInfo& info) {
  const double seconds = info[0].IsNumber() ? info[0].ToNumber().DoubleValue() : 0.5;
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("gflops", MeasurePeakGflops(seconds));
  result.Set("memcpyGBs", MeasureMemcpyGBs(seconds));
  result.Set("threads", static_cast<double>(DefaultThreadPool().size()));
  result.Set("avx2", UseAvx2());
  result.Set("simd", SimdLevelName(ActiveSimdLevel()));
  return result;
}

Napi::Value SimdJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("cpu", SimdLevelName(CpuSimdLevel()));
  result.Set("active", SimdLevelName(ActiveSimdLevel()));
  Napi::Array available = Napi::Array::New(env);
  for (int level = 0; level <= static_cast<int>(CpuSimdLevel()); ++level) {
    available.Set(static_cast<uint32_t>(level), SimdLevelName(static_cast<SimdLevel>(level)));
  }
  result.Set("available", available);
  return result;
}

Napi::Value SetSimdLevelJs(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  SimdLevel level;
  if (!ParseSimdLevel(name.c_str(), &level)) {
    throw Napi::TypeError::New(info.Env(), "SIMD level must be scalar, avx2 or avx512, got \"" + name + "\"");
  }
  const SimdLevel previous = SimdCap();
  SetSimdCap(level);
  return Napi::String::New(info.Env(), SimdLevelName(previous));
}

const Registration kRegistration({
    {"kernelsMatMul", MatMulJs},
    {"kernelsMatMulTransposedA", MatMulTransposedAJs},
    {"kernelsAttention", AttentionJs},
    {"kernelsSoftmax", SoftmaxJs},
    {"kernelsNll", NllJs},
    {"kernelsMachinePeak", MachinePeakJs},
    {"kernelsSimd", SimdJs},
    {"kernelsSetSimdLevel", SetSimdLevelJs},
});

}  // namespace
}  // namespace quantstudio::kernels
