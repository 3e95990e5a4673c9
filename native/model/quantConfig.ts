// One source for what a quantization config means: any shape users write it in → one quantization_config
// object, and the default of every key the engine, the estimate and the rules fall back to. The defaults
// are the schemas' (test/unit/native/quantConfig.test.ts checks each against schemas/).
import type { JsonObject, JsonValue } from './types';

/** transformers 5.23 GPTQConfig / AwqConfig / BitsAndBytesConfig defaults (schemas/gptq, awq, bitsandbytes). */
export const QUANT_DEFAULTS = {
  gptq: {
    // GPTQConfig requires bits; 4 is what AutoGPTQ / GPTQModel files default to
    bits: 4,
    group_size: 128,
    damp_percent: 0.1,
    damp_auto_increment: 0.0025,
    desc_act: false,
    sym: true,
    static_groups: false,
    act_group_aware: true,
    mse: 0,
    /** gptaq.alpha when a config gives gptaq without it (gptaq itself defaults to null: off). */
    gptaq_alpha: 0.25,
    true_sequential: true,
    checkpoint_format: 'gptq',
  },
  awq: { bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
  bitsandbytes: {
    load_in_4bit: false,
    load_in_8bit: false,
    llm_int8_threshold: 6,
    bnb_4bit_quant_type: 'fp4',
    bnb_4bit_compute_dtype: 'float32',
    bnb_4bit_use_double_quant: false,
  },
} as const;

/** Where GPTQModel 7.7 reads an AutoGPTQ quantize_config.json differently from GPTQConfig (schemas/autogptq-quantize-config). */
export const AUTOGPTQ_DEFAULTS = { damp_percent: 0.05 } as const;

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A config.json (its `quantization_config`), a bare quantization_config (has `quant_method`), AutoAWQ's
 * quant_config.json (`w_bit` / `q_group_size`) or AutoGPTQ's quantize_config.json (`bits`, or the file name)
 * → a quantization_config with `quant_method`. An AutoGPTQ file gets the keys whose default differs written
 * out, so whoever reads the result applies the defaults the file's own library would. Undefined: none found.
 */
export function quantizationConfigOf(value: JsonObject, fileName?: string): JsonObject | undefined {
  if (isObject(value.quantization_config)) return value.quantization_config;
  const method = typeof value.quant_method === 'string' ? value.quant_method.toLowerCase() : undefined;
  const awqKeys = 'w_bit' in value || 'q_group_size' in value;
  const gptqFile = fileName?.replace(/^.*[\\/]/, '') === 'quantize_config.json' && (method === undefined || method === 'gptq');
  if (gptqFile || (method === undefined && 'bits' in value && !awqKeys)) return { quant_method: 'gptq', ...AUTOGPTQ_DEFAULTS, ...value };
  if (method !== undefined) return value;
  if (awqKeys) return { quant_method: 'awq', ...value };
  if ('load_in_4bit' in value || 'load_in_8bit' in value) return { quant_method: 'bitsandbytes', ...value };
  return undefined;
}

/** GPTQ checkpoint formats whose tensors the runtime reads: v1 (AutoGPTQ's, qzeros hold zero − 1) and GPTQModel's v2 (zero as is). */
export const GPTQ_CHECKPOINT_FORMATS = ['gptq', 'gptq_v2'] as const;

/**
 * The checkpoint format a GPTQ quantization_config declares: `checkpoint_format`, else `format` (GPTQModel 7.7
 * writes both; where they disagree checkpoint_format wins, as in transformers 5.23's GPTQConfig and GPTQModel
 * 7.7, and the editor's gptq rules say so), else 'gptq' (v1).
 */
export function gptqCheckpointFormat(qc: JsonObject): string {
  const declared = [qc.checkpoint_format, qc.format].find((v): v is string => typeof v === 'string');
  return (declared ?? QUANT_DEFAULTS.gptq.checkpoint_format).toLowerCase();
}
