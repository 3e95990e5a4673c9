#include "formats/bnb.h"

#include <algorithm>
#include <array>

#include "io/json.h"

namespace quantstudio::formats {
namespace {

const std::string kQuantStateKey = ".weight.quant_state.bitsandbytes__";

template <size_t N>
std::vector<float> ToVector(const std::array<float, N>& a) {
  return std::vector<float>(a.begin(), a.end());
}

int64_t IntMember(const json::Value& state, const std::string& key, const std::string& where) {
  const json::Value* v = state.Get(key);
  int64_t n;
  if (v == nullptr || !v->toInt64(&n)) throw FormatError(where + ": quant state has no integer \"" + key + "\"");
  return n;
}

}  // namespace

const char* TorchDtypeName(DType t) {
  switch (t) {
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::F32: return "float32";
    default: return "float16";
  }
}

std::string Bnb4QuantStateJson(const quant::Bnb4Quantized& q, DType computeDtype) {
  json::Value state = json::Value::Object();
  state.Set("quant_type", json::Value::String(quant::Bnb4TypeName(q.type)));
  state.Set("blocksize", json::Value::Int(q.blocksize));
  state.Set("dtype", json::Value::String(TorchDtypeName(computeDtype)));
  json::Value shape = json::Value::Array();
  for (int64_t d : q.shape) shape.Push(json::Value::Int(d));
  state.Set("shape", shape);
  if (q.nested) {
    state.Set("nested_blocksize", json::Value::Int(q.nestedBlocksize));
    state.Set("nested_dtype", json::Value::String("float32"));
    state.Set("nested_offset", json::Value::Double(static_cast<double>(q.offset)));
  }
  return state.Dump();
}

TensorSet PackBnb4(const std::string& prefix, const quant::Bnb4Quantized& q, DType computeDtype) {
  const std::string w = prefix + ".weight";
  TensorSet out;
  out.push_back(MakeTensor(w, DType::U8, {static_cast<int64_t>(q.packed.size()), 1}, q.packed));
  if (q.nested) {
    out.push_back(MakeTensor(w + ".absmax", DType::U8, {static_cast<int64_t>(q.absmaxCodes.size())}, q.absmaxCodes));
    out.push_back(
        MakeTensor(w + ".nested_absmax", DType::F32, {static_cast<int64_t>(q.nestedAbsmax.size())}, q.nestedAbsmax));
    out.push_back(MakeTensor(w + ".nested_quant_map", DType::F32, {256}, ToVector(q.nestedCode)));
  } else {
    out.push_back(MakeTensor(w + ".absmax", DType::F32, {static_cast<int64_t>(q.absmax.size())}, q.absmax));
  }
  out.push_back(MakeTensor(w + ".quant_map", DType::F32, {16}, ToVector(q.code)));
  const std::string state = Bnb4QuantStateJson(q, computeDtype);
  out.push_back(MakeTensor(prefix + kQuantStateKey + quant::Bnb4TypeName(q.type), DType::U8,
                           {static_cast<int64_t>(state.size())}, std::vector<uint8_t>(state.begin(), state.end())));
  return out;
}

quant::Bnb4Quantized UnpackBnb4(const TensorLookup& lookup, const std::string& prefix) {
  quant::Bnb4Quantized q;
  const io::TensorView* stateView = nullptr;
  for (quant::Bnb4Type t : {quant::Bnb4Type::NF4, quant::Bnb4Type::FP4}) {
    if ((stateView = lookup(prefix + kQuantStateKey + quant::Bnb4TypeName(t))) != nullptr) break;
  }
  const std::string where = prefix + ".weight";
  if (stateView == nullptr) {
    throw FormatError("tensor \"" + prefix + kQuantStateKey + "nf4\" (or fp4) is missing from the checkpoint; " +
                      where + " is not a bitsandbytes 4-bit weight");
  }
  json::Value state;
  try {
    state = json::Parse(reinterpret_cast<const char*>(stateView->data), stateView->nbytes);
  } catch (const json::ParseError& e) {
    throw FormatError(stateView->name + ": " + e.what());
  }
  const json::Value* type = state.Get("quant_type");
  if (type == nullptr || !type->isString() || (type->asString() != "nf4" && type->asString() != "fp4")) {
    throw FormatError(where + ": quant state has no quant_type \"nf4\" or \"fp4\"");
  }
  q.type = type->asString() == "nf4" ? quant::Bnb4Type::NF4 : quant::Bnb4Type::FP4;
  q.blocksize = IntMember(state, "blocksize", where);
  const json::Value* shape = state.Get("shape");
  if (shape == nullptr || !shape->isArray()) throw FormatError(where + ": quant state has no \"shape\"");
  int64_t n = 1;
  for (const json::Value& d : shape->items()) {
    int64_t dim;
    if (!d.toInt64(&dim) || dim < 0) throw FormatError(where + ": quant state shape holds " + d.asString());
    q.shape.push_back(dim);
    // The packed tensor must hold n elements, so a count past int64 cannot be a real weight.
    if (dim != 0 && n > (INT64_MAX - 1) / dim) {
      throw FormatError(where + ": quant state shape " + shape->Dump() + " has more elements than a tensor can hold");
    }
    n *= dim;
  }
  if (q.blocksize <= 0) throw FormatError(where + ": quant state blocksize must be positive");
  const int64_t blocks = (n + q.blocksize - 1) / q.blocksize;
  const std::vector<int64_t> packedShape{(n + 1) / 2, 1}, blocksShape{blocks}, codeShape{16};
  q.packed = CopyOut<uint8_t>(Require(lookup, where, DType::U8, &packedShape));
  const auto code = CopyOut<float>(Require(lookup, where + ".quant_map", DType::F32, &codeShape));
  std::copy(code.begin(), code.end(), q.code.begin());
  q.nested = state.Get("nested_offset") != nullptr;
  if (!q.nested) {
    q.absmax = CopyOut<float>(Require(lookup, where + ".absmax", DType::F32, &blocksShape));
    return q;
  }
  q.nestedBlocksize = IntMember(state, "nested_blocksize", where);
  if (q.nestedBlocksize <= 0) throw FormatError(where + ": quant state nested_blocksize must be positive");
  q.offset = static_cast<float>(state.Get("nested_offset")->asDouble());
  const std::vector<int64_t> nestedShape{(blocks + q.nestedBlocksize - 1) / q.nestedBlocksize}, mapShape{256};
  q.absmaxCodes = CopyOut<uint8_t>(Require(lookup, where + ".absmax", DType::U8, &blocksShape));
  q.nestedAbsmax = CopyOut<float>(Require(lookup, where + ".nested_absmax", DType::F32, &nestedShape));
  const auto nestedCode = CopyOut<float>(Require(lookup, where + ".nested_quant_map", DType::F32, &mapShape));
  std::copy(nestedCode.begin(), nestedCode.end(), q.nestedCode.begin());
  return q;
}

TensorSet PackBnb8(const std::string& prefix, const quant::Int8Quantized& q) {
  TensorSet out;
  out.push_back(MakeTensor(prefix + ".weight", DType::I8, {q.rows, q.cols}, q.q));
  out.push_back(MakeTensor(prefix + ".SCB", DType::F32, {q.rows}, q.scb));
  out.push_back(MakeTensor(prefix + ".weight_format", DType::U8, {}, std::vector<uint8_t>{0}));
  return out;
}

quant::Int8Quantized UnpackBnb8(const TensorLookup& lookup, const std::string& prefix) {
  const io::TensorView& weight = Require(lookup, prefix + ".weight", DType::I8);
  if (weight.shape.size() != 2 || weight.numel() == 0) {
    throw FormatError(prefix + ".weight: expected a non-empty [out, in], found " + ShapeString(weight.shape));
  }
  if (const io::TensorView* format = lookup(prefix + ".weight_format")) {
    if (format->nbytes != 1 || format->data[0] != 0) {
      throw FormatError(prefix + ".weight_format: only row-major (0) int8 weights can be loaded");
    }
  }
  quant::Int8Quantized q;
  q.rows = weight.shape[0];
  q.cols = weight.shape[1];
  const std::vector<int64_t> scbShape{q.rows};
  q.q = CopyOut<int8_t>(weight);
  q.scb = CopyOut<float>(Require(lookup, prefix + ".SCB", DType::F32, &scbShape));
  return q;
}

}  // namespace quantstudio::formats
