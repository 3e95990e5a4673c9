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

/** An option's value; undefined when the key is absent, so absent and undefined read alike. */
inline Napi::Value OptionValue(const Napi::Object& options, const char* key) {
  return options.Has(key) ? options.Get(key) : options.Env().Undefined();
}

/** Reads an optional option: returns `fallback` when absent or undefined. */
inline double OptionNumber(const Napi::Object& options, const char* key, double fallback) {
  const Napi::Value v = OptionValue(options, key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool OptionBool(const Napi::Object& options, const char* key, bool fallback) {
  const Napi::Value v = OptionValue(options, key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(options.Env(), std::string("option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

/** A weight matrix argument: the Float32Array at `weight` and its `rows` and `cols`. */
struct WeightArg {
  std::vector<float> values;
  int64_t rows;
  int64_t cols;
};

/** Reads a weight and its shape; a RangeError when it does not hold rows × cols values. */
inline WeightArg ReadWeight(const Napi::Value& weight, const Napi::Value& rows, const Napi::Value& cols) {
  WeightArg w{CopyFloat32(weight, "weight"), PositiveInteger(rows, "rows"), PositiveInteger(cols, "cols")};
  if (static_cast<int64_t>(w.values.size()) != w.rows * w.cols)
    throw Napi::RangeError::New(weight.Env(), "weight has " + std::to_string(w.values.size()) +
                                                  " values; rows × cols = " + std::to_string(w.rows * w.cols));
  return w;
}

/** Reads the optional bits and groupSize every group quantizer's options carry, keeping the defaults when absent. */
template <class Options>
void ReadBitsAndGroupSize(const Napi::Object& o, Options& options) {
  options.bits = static_cast<int>(OptionNumber(o, "bits", options.bits));
  options.groupSize = static_cast<int64_t>(OptionNumber(o, "groupSize", static_cast<double>(options.groupSize)));
}

}  // namespace quantstudio::bindings
