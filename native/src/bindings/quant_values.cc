#include "bindings/quant_values.h"

#include <algorithm>
#include <cstring>

#include "formats/layouts.h"

namespace quantstudio::bindings {
namespace {

template <typename Array, typename T>
Array MakeArray(Napi::Env env, const std::vector<T>& values) {
  Array a = Array::New(env, values.size());
  std::copy(values.begin(), values.end(), a.Data());
  return a;
}

template <typename T, size_t N>
Napi::Float32Array MakeFloats(Napi::Env env, const std::array<T, N>& values) {
  Napi::Float32Array a = Napi::Float32Array::New(env, N);
  std::copy(values.begin(), values.end(), a.Data());
  return a;
}

Napi::Value Field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) throw Napi::TypeError::New(o.Env(), std::string("quantized result has no field '") + key + "'");
  return v;
}

double Number(const Napi::Object& o, const char* key) {
  Napi::Value v = Field(o, key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("field '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
std::vector<T> Typed(const Napi::Object& o, const char* key, napi_typedarray_type type, const char* typeName) {
  Napi::Value v = Field(o, key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(o.Env(), std::string("field '") + key + "' must be a " + typeName);
  }
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  const auto* p = reinterpret_cast<const T*>(static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  return std::vector<T>(p, p + a.ElementLength());
}

template <size_t N>
void FillArray(std::array<float, N>& out, const std::vector<float>& in, const char* key, Napi::Env env) {
  if (in.size() != N)
    throw Napi::TypeError::New(env, std::string("field '") + key + "' must hold " + std::to_string(N) + " values");
  std::copy(in.begin(), in.end(), out.begin());
}

void SetGroupFields(Napi::Env env, const quant::GroupQuantized& g, Napi::Object& o) {
  o.Set("rows", static_cast<double>(g.rows));
  o.Set("cols", static_cast<double>(g.cols));
  o.Set("bits", g.bits);
  o.Set("groupSize", static_cast<double>(g.groupSize));
  o.Set("q", MakeArray<Napi::Uint8Array>(env, g.q));
  o.Set("scales", MakeArray<Napi::Float32Array>(env, g.scales));
  o.Set("zeros", MakeArray<Napi::Int32Array>(env, g.zeros));
  o.Set("gIdx", MakeArray<Napi::Int32Array>(env, g.gIdx));
}

}  // namespace

Napi::Object GroupQuantizedToJs(Napi::Env env, const quant::GroupQuantized& g) {
  Napi::Object o = Napi::Object::New(env);
  SetGroupFields(env, g, o);
  return o;
}

Napi::Object QuantResultToJs(Napi::Env env, const quant::QuantResult& result) {
  Napi::Object o = Napi::Object::New(env);
  if (const auto* g = std::get_if<quant::GroupQuantized>(&result)) {
    o.Set("kind", formats::FeedName(formats::Feed::Group));
    SetGroupFields(env, *g, o);
  } else if (const auto* b = std::get_if<quant::Bnb4Quantized>(&result)) {
    o.Set("kind", formats::FeedName(formats::Feed::Bnb4));
    o.Set("quantType", quant::Bnb4TypeName(b->type));
    o.Set("blocksize", static_cast<double>(b->blocksize));
    o.Set("shape", ShapeToJs(env, b->shape));
    o.Set("code", MakeFloats(env, b->code));
    o.Set("packed", MakeArray<Napi::Uint8Array>(env, b->packed));
    o.Set("nested", b->nested);
    if (b->nested) {
      o.Set("absmaxCodes", MakeArray<Napi::Uint8Array>(env, b->absmaxCodes));
      o.Set("nestedAbsmax", MakeArray<Napi::Float32Array>(env, b->nestedAbsmax));
      o.Set("nestedBlocksize", static_cast<double>(b->nestedBlocksize));
      o.Set("nestedCode", MakeFloats(env, b->nestedCode));
      o.Set("offset", b->offset);
    } else {
      o.Set("absmax", MakeArray<Napi::Float32Array>(env, b->absmax));
    }
  } else {
    const auto& i = std::get<quant::Int8Quantized>(result);
    o.Set("kind", formats::FeedName(formats::Feed::Int8));
    o.Set("rows", static_cast<double>(i.rows));
    o.Set("cols", static_cast<double>(i.cols));
    o.Set("threshold", i.threshold);
    o.Set("q", MakeArray<Napi::Int8Array>(env, i.q));
    o.Set("scb", MakeArray<Napi::Float32Array>(env, i.scb));
  }
  return o;
}

quant::QuantResult QuantResultFromJs(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, "quantized result must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  const Napi::Value kindValue = o.Get("kind");
  // Objects from GPTQ/AWQ carry no kind: a group result is recognised by its fields.
  const std::string kind =
      kindValue.IsString() ? kindValue.As<Napi::String>().Utf8Value() : formats::FeedName(formats::Feed::Group);
  if (kind == formats::FeedName(formats::Feed::Group)) {
    quant::GroupQuantized g;
    g.rows = static_cast<int64_t>(Number(o, "rows"));
    g.cols = static_cast<int64_t>(Number(o, "cols"));
    g.bits = static_cast<int>(Number(o, "bits"));
    g.groupSize = static_cast<int64_t>(Number(o, "groupSize"));
    g.q = Typed<uint8_t>(o, "q", napi_uint8_array, "Uint8Array");
    g.scales = Typed<float>(o, "scales", napi_float32_array, "Float32Array");
    g.zeros = Typed<int32_t>(o, "zeros", napi_int32_array, "Int32Array");
    g.gIdx = Typed<int32_t>(o, "gIdx", napi_int32_array, "Int32Array");
    const int64_t groups = g.numGroups();
    if (g.rows < 0 || g.cols < 0 || static_cast<int64_t>(g.q.size()) != g.rows * g.cols ||
        static_cast<int64_t>(g.gIdx.size()) != g.cols || static_cast<int64_t>(g.scales.size()) < groups * g.rows ||
        static_cast<int64_t>(g.zeros.size()) < groups * g.rows) {
      throw Napi::RangeError::New(env, "group result arrays do not match rows × cols and the group count");
    }
    for (int32_t gi : g.gIdx) {
      if (gi < 0 || gi >= groups) throw Napi::RangeError::New(env, "group result gIdx names a group out of range");
    }
    return g;
  }
  if (kind == formats::FeedName(formats::Feed::Bnb4)) {
    quant::Bnb4Quantized b;
    const std::string type = Field(o, "quantType").ToString().Utf8Value();
    if (type != "nf4" && type != "fp4") throw Napi::TypeError::New(env, "quantType must be 'nf4' or 'fp4'");
    b.type = type == "nf4" ? quant::Bnb4Type::NF4 : quant::Bnb4Type::FP4;
    b.blocksize = static_cast<int64_t>(Number(o, "blocksize"));
    b.shape = ShapeFromJs(Field(o, "shape"), "shape");
    FillArray(b.code, Typed<float>(o, "code", napi_float32_array, "Float32Array"), "code", env);
    b.packed = Typed<uint8_t>(o, "packed", napi_uint8_array, "Uint8Array");
    b.nested = Field(o, "nested").ToBoolean().Value();
    if (b.blocksize <= 0) throw Napi::RangeError::New(env, "blocksize must be positive");
    const int64_t blocks = (b.numel() + b.blocksize - 1) / b.blocksize;
    if (static_cast<int64_t>(b.packed.size()) != (b.numel() + 1) / 2) {
      throw Napi::RangeError::New(env, "packed must hold (n + 1) / 2 bytes for the shape");
    }
    if (b.nested) {
      b.absmaxCodes = Typed<uint8_t>(o, "absmaxCodes", napi_uint8_array, "Uint8Array");
      b.nestedAbsmax = Typed<float>(o, "nestedAbsmax", napi_float32_array, "Float32Array");
      b.nestedBlocksize = static_cast<int64_t>(Number(o, "nestedBlocksize"));
      FillArray(b.nestedCode, Typed<float>(o, "nestedCode", napi_float32_array, "Float32Array"), "nestedCode", env);
      b.offset = static_cast<float>(Number(o, "offset"));
      if (b.nestedBlocksize <= 0 || static_cast<int64_t>(b.absmaxCodes.size()) != blocks ||
          static_cast<int64_t>(b.nestedAbsmax.size()) != (blocks + b.nestedBlocksize - 1) / b.nestedBlocksize) {
        throw Napi::RangeError::New(env, "nested absmax arrays do not match the block count");
      }
    } else {
      b.absmax = Typed<float>(o, "absmax", napi_float32_array, "Float32Array");
      if (static_cast<int64_t>(b.absmax.size()) != blocks)
        throw Napi::RangeError::New(env, "absmax must hold one value per block");
    }
    return b;
  }
  if (kind == formats::FeedName(formats::Feed::Int8)) {
    quant::Int8Quantized i;
    i.rows = static_cast<int64_t>(Number(o, "rows"));
    i.cols = static_cast<int64_t>(Number(o, "cols"));
    i.threshold = static_cast<float>(Number(o, "threshold"));
    i.q = Typed<int8_t>(o, "q", napi_int8_array, "Int8Array");
    i.scb = Typed<float>(o, "scb", napi_float32_array, "Float32Array");
    if (static_cast<int64_t>(i.q.size()) != i.rows * i.cols || static_cast<int64_t>(i.scb.size()) != i.rows) {
      throw Napi::RangeError::New(env, "int8 result arrays do not match rows × cols");
    }
    return i;
  }
  throw Napi::TypeError::New(env, "unknown quantized result kind '" + kind + "'; expected group, bnb4 or int8");
}

Napi::TypedArray BytesToTypedArray(Napi::Env env, DType dtype, const uint8_t* data, size_t nbytes) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes > 0) std::memcpy(buffer.Data(), data, nbytes);
  const size_t n = nbytes / DTypeSize(dtype);
  switch (dtype) {
    case DType::F32: return Napi::Float32Array::New(env, n, buffer, 0);
    case DType::F16:
    case DType::BF16: return Napi::Uint16Array::New(env, n, buffer, 0);
    case DType::I8: return Napi::Int8Array::New(env, n, buffer, 0);
    case DType::U8: return Napi::Uint8Array::New(env, n, buffer, 0);
    case DType::I32: return Napi::Int32Array::New(env, n, buffer, 0);
    case DType::I64: break;  // its raw bytes: only side tensors (compressed-tensors' weight_shape) are I64
  }
  return Napi::Uint8Array::New(env, nbytes, buffer, 0);
}

std::vector<uint8_t> TypedArrayBytes(const Napi::Value& value, const std::string& what) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), what + " must be a typed array");
  Napi::TypedArray a = value.As<Napi::TypedArray>();
  const uint8_t* p = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  return std::vector<uint8_t>(p, p + a.ByteLength());
}

DType DTypeFromJs(const Napi::Value& value, const std::string& what) {
  DType t;
  if (!value.IsString() || !ParseDType(value.As<Napi::String>().Utf8Value(), &t)) {
    throw Napi::TypeError::New(value.Env(), what + " must be one of F32, F16, BF16, I8, U8, I32, I64");
  }
  return t;
}

std::vector<int64_t> ShapeFromJs(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), what + " must be an array of dimensions");
  Napi::Array a = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value d = a.Get(i);
    const double n = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(n >= 0.0) || n != static_cast<double>(static_cast<int64_t>(n))) {
      throw Napi::TypeError::New(value.Env(), what + " must hold non-negative integers");
    }
    shape.push_back(static_cast<int64_t>(n));
  }
  return shape;
}

Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array a = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) a.Set(static_cast<uint32_t>(i), static_cast<double>(shape[i]));
  return a;
}

}  // namespace quantstudio::bindings
