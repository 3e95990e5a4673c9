// Reading the plain arguments of the quantizer and format bindings: typed arrays, sizes and option objects,
// each refused with a JS TypeError or RangeError that names it.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace quantstudio::bindings {

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
