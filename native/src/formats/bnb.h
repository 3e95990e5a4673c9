// bitsandbytes checkpoint formats for one Linear layer, as Linear4bit / Linear8bitLt save them.
//   4-bit: <prefix>.weight uint8 [(n+1)/2, 1], <prefix>.weight.absmax (fp32, or uint8 codes when
//          nested), <prefix>.weight.quant_map fp32 [16], nested: <prefix>.weight.nested_absmax fp32,
//          <prefix>.weight.nested_quant_map fp32 [256]; and <prefix>.weight.quant_state.bitsandbytes__<type>,
//          a uint8 tensor holding the JSON of the non-tensor state (QuantState.as_dict(packed=True)).
//   8-bit: <prefix>.weight int8 [out, in], <prefix>.SCB fp32 [out], <prefix>.weight_format uint8 [] = 0 (row-major).
#pragma once

#include <string>

#include "core/dtype.h"
#include "formats/tensor_set.h"
#include "quant/bnb4.h"
#include "quant/int8.h"

namespace quantstudio::formats {

/** computeDtype is the dtype the loader dequantizes to ("dtype" in the quant state). */
TensorSet PackBnb4(const std::string& prefix, const quant::Bnb4Quantized& q, DType computeDtype);
quant::Bnb4Quantized UnpackBnb4(const TensorLookup& lookup, const std::string& prefix);

/** The quant state JSON exactly as bitsandbytes writes it (json.dumps of the non-tensor items). */
std::string Bnb4QuantStateJson(const quant::Bnb4Quantized& q, DType computeDtype);

TensorSet PackBnb8(const std::string& prefix, const quant::Int8Quantized& q);
quant::Int8Quantized UnpackBnb8(const TensorLookup& lookup, const std::string& prefix);

/** torch's spelling of a dtype in quant states: "float16", "bfloat16", "float32". */
const char* TorchDtypeName(DType t);

}  // namespace quantstudio::formats
