// JS ⇄ C++ forms of the quantizer results shared by the quant and formats bindings. Results cross
// as plain objects of typed arrays ({kind: 'group' | 'bnb4' | 'int8', ...}); arrays are copied.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "core/dtype.h"
#include "quant/registry.h"

namespace quantstudio::bindings {

/** GPTQ's and AWQ's result matrix: the 'group' kind's fields without `kind`. */
Napi::Object GroupQuantizedToJs(Napi::Env env, const quant::GroupQuantized& g);
Napi::Object QuantResultToJs(Napi::Env env, const quant::QuantResult& result);
/** Throws Napi::TypeError naming the missing or mistyped field. */
quant::QuantResult QuantResultFromJs(const Napi::Value& value);

/** Typed array for a dtype's raw bytes (F16/BF16 → Uint16Array). */
Napi::TypedArray BytesToTypedArray(Napi::Env env, DType dtype, const uint8_t* data, size_t nbytes);
/** The raw bytes of any typed array. */
std::vector<uint8_t> TypedArrayBytes(const Napi::Value& value, const std::string& what);
/** "F32" … → DType; Napi::TypeError otherwise. */
DType DTypeFromJs(const Napi::Value& value, const std::string& what);
std::vector<int64_t> ShapeFromJs(const Napi::Value& value, const std::string& what);
Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape);

}  // namespace quantstudio::bindings
