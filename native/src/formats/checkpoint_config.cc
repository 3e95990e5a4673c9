#include "formats/checkpoint_config.h"

#include <cctype>
#include <cmath>

#include "formats/bnb.h"

namespace quantstudio::formats {

using json::Value;

namespace {

/** A number option written into a config: the loaders parse the config as JSON, which has no NaN or infinity. */
Value Finite(const char* key, double d) {
  if (!std::isfinite(d)) {
    throw FormatError(std::string("quantization_config: ") + key + " must be a finite number, not " +
                      (std::isnan(d) ? "NaN"
                       : d > 0       ? "Infinity"
                                     : "-Infinity"));
  }
  return Value::Double(d);
}

}  // namespace

json::Value GptqQuantizationConfig(const GptqConfigOptions& o) {
  Value c = Value::Object();
  const CheckpointLayout& layout = LayoutOf(LayoutId::Gptq);
  c.Set("quant_method", Value::String(layout.quantMethod));
  c.Set("bits", Value::Int(o.bits));
  c.Set("group_size", Value::Int(o.groupSize));
  c.Set("damp_percent", Finite("damp_percent", o.dampPercent));
  c.Set("desc_act", Value::Bool(o.descAct));
  c.Set("static_groups", Value::Bool(o.staticGroups));
  c.Set("sym", Value::Bool(o.sym));
  c.Set("true_sequential", Value::Bool(o.trueSequential));
  c.Set("lm_head", Value::Bool(false));
  // GPTQModel 7.7 writes both keys; transformers 5.23 GPTQConfig reads format, checkpoint_format overriding it.
  const std::string format = o.v2 ? std::string(kGptqV2Format) : layout.checkpointFormat;
  c.Set("format", Value::String(format));
  c.Set("checkpoint_format", Value::String(format));
  if (!o.dynamicJson.empty()) c.Set("dynamic", json::Parse(o.dynamicJson));
  Value meta = Value::Object();
  meta.Set("quantizer", Value::Array({Value::String("quantstudio:0.1.0")}));
  c.Set("meta", meta);
  return c;
}

json::Value GptqQuantizeConfigFile(const GptqConfigOptions& o) { return GptqQuantizationConfig(o); }

json::Value AwqQuantizationConfig(const AwqConfigOptions& o) {
  Value c = Value::Object();
  c.Set("quant_method", Value::String(LayoutOf(AwqLayout(o.version)).quantMethod));
  c.Set("bits", Value::Int(o.bits));
  c.Set("group_size", Value::Int(o.groupSize));
  c.Set("zero_point", Value::Bool(o.zeroPoint));
  c.Set("version", Value::String(AwqVersionName(o.version)));
  c.Set("modules_to_not_convert", Value());
  return c;
}

json::Value AwqQuantConfigFile(const AwqConfigOptions& o) {
  Value c = Value::Object();
  c.Set("zero_point", Value::Bool(o.zeroPoint));
  c.Set("q_group_size", Value::Int(o.groupSize));
  c.Set("w_bit", Value::Int(o.bits));
  std::string version = AwqVersionName(o.version);
  for (char& ch : version) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  c.Set("version", Value::String(version));
  return c;
}

json::Value BnbQuantizationConfig(const BnbConfigOptions& o) {
  Value c = Value::Object();
  c.Set("quant_method", Value::String(LayoutOf(o.load4bit ? LayoutId::Bnb4 : LayoutId::Bnb8).quantMethod));
  c.Set("_load_in_8bit", Value::Bool(!o.load4bit));
  c.Set("_load_in_4bit", Value::Bool(o.load4bit));
  c.Set("llm_int8_threshold", Finite("llm_int8_threshold", o.int8Threshold));
  c.Set("llm_int8_skip_modules", Value());
  c.Set("llm_int8_enable_fp32_cpu_offload", Value::Bool(false));
  c.Set("llm_int8_has_fp16_weight", Value::Bool(false));
  c.Set("bnb_4bit_quant_type", Value::String(quant::Bnb4TypeName(o.quantType)));
  c.Set("bnb_4bit_use_double_quant", Value::Bool(o.doubleQuant));
  c.Set("bnb_4bit_compute_dtype", Value::String(TorchDtypeName(o.computeDtype)));
  c.Set("bnb_4bit_quant_storage", Value::String("uint8"));
  c.Set("load_in_4bit", Value::Bool(o.load4bit));
  c.Set("load_in_8bit", Value::Bool(!o.load4bit));
  return c;
}

CheckpointConfig CheckpointConfigFor(LayoutId id, const CheckpointConfigOptions& o) {
  const CheckpointLayout& layout = LayoutOf(id);
  CheckpointConfig out;
  out.sideFileName = layout.sideFile;
  switch (id) {
    case LayoutId::Gptq:
      out.quantizationConfig = GptqQuantizationConfig(o.gptq);
      out.sideFile = GptqQuantizeConfigFile(o.gptq);
      break;
    case LayoutId::AwqGemm:
    case LayoutId::AwqGemv: {
      AwqConfigOptions a = o.awq;
      a.version = id == LayoutId::AwqGemm ? AwqVersion::Gemm : AwqVersion::Gemv;
      out.quantizationConfig = AwqQuantizationConfig(a);
      out.sideFile = AwqQuantConfigFile(a);
      break;
    }
    case LayoutId::Bnb4:
    case LayoutId::Bnb8: {
      BnbConfigOptions b = o.bnb;
      b.load4bit = layout.feed == Feed::Bnb4;
      out.quantizationConfig = BnbQuantizationConfig(b);
      break;
    }
    case LayoutId::CtPacked:
      throw FormatError(std::string("no quantization_config writer for the ") + layout.name +
                        " layout: the runtime only loads it; the engine writes " + LayoutNames(true));
  }
  if (!o.skipModules.empty()) {
    Value list = Value::Array();
    for (const std::string& m : o.skipModules) list.Push(Value::String(m));
    out.quantizationConfig.Set(layout.skipKey, list);
  }
  return out;
}

}  // namespace quantstudio::formats
