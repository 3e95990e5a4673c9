// A quantization_config (and algorithm) as the quantize pipeline runs it: the method, the layout written and every
// option, each missing key taking its default from QUANT_DEFAULTS (the schemas). Pure TS: the worker hands the plan
// to the engine or to the python backend's runner, and the language server shows what the python backend makes of it.
import { CHECKPOINT_LAYOUTS } from './checkpointLayouts';
import type { LayoutName } from './checkpointLayouts';
import { dynamicPlan } from './gptqDynamicPlan';
import type { DynamicPlanRule } from './gptqDynamicPlan';
import { GPTQ_CHECKPOINT_FORMATS, QUANT_DEFAULTS } from './quantConfig';

type GptqCheckpointFormat = (typeof GPTQ_CHECKPOINT_FORMATS)[number];
const isGptqFormat = (f: string): f is GptqCheckpointFormat => (GPTQ_CHECKPOINT_FORMATS as readonly string[]).includes(f);

export type QuantAlgorithm = 'rtn' | 'gptq' | 'awq' | 'bitsandbytes';

/** 'wikitext2' (bundled), a path to a .txt file or a .jsonl file ({"text": ...} per line), or the texts themselves. */
export type CalibrationDataset = string | string[];

/** What the engine runs: the method, the layout written and their options (native/src/bindings/pipeline_binding.cc). */
export interface PipelinePlan {
  method: 'rtn' | 'gptq' | 'awq' | 'nf4' | 'fp4' | 'int8';
  layout: LayoutName;
  /** The gptq layout's checkpoint format: v1 ("gptq", zero − 1 stored) or GPTQModel's v2 (zero points as they are). */
  checkpointFormat?: GptqCheckpointFormat;
  bits?: number;
  groupSize?: number;
  sym?: boolean;
  descAct?: boolean;
  staticGroups?: boolean;
  /** GPTQModel 7.7's act_group_aware (GAR): groups quantized by their largest diag H; off with descAct or staticGroups. */
  actGroupAware?: boolean;
  /** > 0: GPTQModel 7.7's range search per grid under this norm (mse); 0: min/max grids. */
  mse?: number;
  /** > 0: GPTAQ (GPTQModel 7.7 `gptaq: {alpha}`): each layer is also fitted to the full-precision model's outputs. */
  gptaqAlpha?: number;
  dampPercent?: number;
  dampAutoIncrement?: number;
  trueSequential?: boolean;
  zeroPoint?: boolean;
  doubleQuant?: boolean;
  computeDtype?: 'float16' | 'bfloat16' | 'float32';
  threshold?: number;
  skipModules: string[];
  /** gptq / rtn into the GPTQ layout: GPTQModel's per-module overrides (gptqDynamicPlan.ts). */
  dynamic?: DynamicPlanRule[];
  dynamicJson?: string;
  /** The config's own dataset, when it names one. */
  dataset?: CalibrationDataset;
}

/** A config the pipeline cannot run; the message names the key and what to change. */
export class QuantizeConfigError extends Error {
  override name = 'QuantizeConfigError';
}

type Json = Record<string, unknown>;

function pick<T>(c: Json, keys: string[], check: (v: unknown) => v is T, what: string): T | undefined {
  for (const key of keys) {
    const v = c[key];
    if (v === undefined || v === null) continue;
    if (!check(v)) throw new QuantizeConfigError(`quantization_config.${key}: must be ${what} (got ${JSON.stringify(v)})`);
    return v;
  }
  return undefined;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isDataset = (v: unknown): v is CalibrationDataset => isString(v) || isStringList(v);

function methodOf(config: Json, algorithm: QuantAlgorithm | undefined): QuantAlgorithm {
  const q = config.quant_method;
  const declared = typeof q === 'string' ? q.toLowerCase() : undefined;
  if (declared !== undefined && !['gptq', 'awq', 'bitsandbytes'].includes(declared)) {
    throw new QuantizeConfigError(
      `quantization_config.quant_method: "${declared}" is not one the pipeline writes; use gptq, awq or bitsandbytes`,
    );
  }
  if (algorithm === undefined) {
    if (declared === undefined)
      throw new QuantizeConfigError('quantization_config.quant_method is missing; set gptq, awq or bitsandbytes (or pass algorithm)');
    return declared as QuantAlgorithm;
  }
  if (algorithm === 'rtn') {
    if (declared === 'bitsandbytes')
      throw new QuantizeConfigError(
        'algorithm rtn writes a GPTQ or AWQ layout; a bitsandbytes config is quantized by algorithm bitsandbytes',
      );
    return 'rtn';
  }
  if (declared !== undefined && declared !== algorithm) {
    throw new QuantizeConfigError(`algorithm ${algorithm} does not match quantization_config.quant_method "${declared}"`);
  }
  return algorithm;
}

/** GPTQModel 7.7's `gptaq` (GPTAQConfig): null or absent → 0 (plain GPTQ); an object → its alpha (default from the schema). */
function gptaqAlphaOf(config: Json): number {
  const gptaq = config.gptaq;
  if (gptaq === undefined || gptaq === null) return 0;
  if (typeof gptaq !== 'object' || Array.isArray(gptaq))
    throw new QuantizeConfigError(
      `quantization_config.gptaq: must be an object such as {"alpha": 0.25} or null (got ${JSON.stringify(gptaq)})`,
    );
  const alpha = (gptaq as Json).alpha ?? QUANT_DEFAULTS.gptq.gptaq_alpha;
  if (!isNumber(alpha) || alpha < 0)
    throw new QuantizeConfigError(`quantization_config.gptaq.alpha: must be a number >= 0 (got ${JSON.stringify(alpha)})`);
  return alpha;
}

/**
 * Maps a quantization_config (and algorithm) to the engine's plan, every key missing from it taking its
 * default from QUANT_DEFAULTS (native/model); throws QuantizeConfigError naming the key.
 */
export function planFromConfig(config: Json, algorithm?: QuantAlgorithm): PipelinePlan {
  const method = methodOf(config, algorithm);
  const bnb = QUANT_DEFAULTS.bitsandbytes;
  const awq = QUANT_DEFAULTS.awq;
  const gptq = QUANT_DEFAULTS.gptq;
  const skipModules = pick(config, ['modules_to_not_convert', 'llm_int8_skip_modules'], isStringList, 'a list of module names') ?? [];
  if (method === 'bitsandbytes' || method === 'awq' || String(config.quant_method).toLowerCase() === 'awq')
    dynamicPlan(config.dynamic, false, (m) => new QuantizeConfigError(m));
  if (method === 'bitsandbytes') {
    const load4 = pick(config, ['load_in_4bit', '_load_in_4bit'], isBool, 'a boolean') ?? bnb.load_in_4bit;
    const load8 = pick(config, ['load_in_8bit', '_load_in_8bit'], isBool, 'a boolean') ?? bnb.load_in_8bit;
    if (load4 === load8) throw new QuantizeConfigError('quantization_config: set exactly one of load_in_4bit and load_in_8bit to true');
    if (load8)
      return {
        method: 'int8',
        layout: 'bnb8',
        threshold: pick(config, ['llm_int8_threshold'], isNumber, 'a number') ?? bnb.llm_int8_threshold,
        skipModules,
      };
    const type = (pick(config, ['bnb_4bit_quant_type'], isString, 'a string') ?? bnb.bnb_4bit_quant_type).toLowerCase();
    if (type !== 'nf4' && type !== 'fp4')
      throw new QuantizeConfigError(`quantization_config.bnb_4bit_quant_type: "${type}" must be nf4 or fp4`);
    const dtype = (pick(config, ['bnb_4bit_compute_dtype'], isString, 'a string') ?? bnb.bnb_4bit_compute_dtype).replace(/^torch\./, '');
    const computeDtype = (
      { float16: 'float16', fp16: 'float16', bfloat16: 'bfloat16', bf16: 'bfloat16', float32: 'float32', fp32: 'float32' } as const
    )[dtype as 'float16'];
    if (!computeDtype)
      throw new QuantizeConfigError(`quantization_config.bnb_4bit_compute_dtype: "${dtype}" must be float16, bfloat16 or float32`);
    return {
      method: type,
      layout: 'bnb4',
      doubleQuant: pick(config, ['bnb_4bit_use_double_quant'], isBool, 'a boolean') ?? bnb.bnb_4bit_use_double_quant,
      computeDtype,
      skipModules,
    };
  }
  const awqLike = method === 'awq' || (method === 'rtn' && String(config.quant_method).toLowerCase() === 'awq');
  const bits = pick(config, ['bits', 'w_bit'], isNumber, 'a number') ?? (awqLike ? awq.bits : gptq.bits);
  const groupSize = pick(config, ['group_size', 'q_group_size'], isNumber, 'a number') ?? (awqLike ? awq.group_size : gptq.group_size);
  const dataset = pick(config, ['dataset'], isDataset, 'a dataset name, a file path or a list of strings');
  if (awqLike) {
    const version = (pick(config, ['version'], isString, 'a string') ?? awq.version).toLowerCase();
    const awqLayouts = CHECKPOINT_LAYOUTS.filter((l) => l.quantMethod === 'awq');
    const layout = awqLayouts.find((l) => l.version === version);
    if (!layout)
      throw new QuantizeConfigError(`quantization_config.version: "${version}" must be ${awqLayouts.map((l) => l.version).join(' or ')}`);
    const zeroPoint = pick(config, ['zero_point'], isBool, 'a boolean') ?? awq.zero_point;
    if (!zeroPoint)
      throw new QuantizeConfigError('quantization_config.zero_point: the AWQ GEMM/GEMV layouts store zero points; set it to true');
    return { method: method === 'rtn' ? 'rtn' : 'awq', layout: layout.name, bits, groupSize, zeroPoint, sym: false, skipModules, dataset };
  }
  const dynamic = dynamicPlan(config.dynamic, true, (m) => new QuantizeConfigError(m));
  // transformers 5.23 GPTQConfig: checkpoint_format overrides format; GPTQModel 7.7 writes both.
  const format = (pick(config, ['checkpoint_format', 'format'], isString, 'a string') ?? gptq.checkpoint_format).toLowerCase();
  if (!isGptqFormat(format)) {
    const key = config.checkpoint_format !== undefined ? 'checkpoint_format' : 'format';
    throw new QuantizeConfigError(
      `quantization_config.${key}: "${format}" is not written; the pipeline writes ${GPTQ_CHECKPOINT_FORMATS.map((f) => `"${f}"`).join(' or ')}`,
    );
  }
  return {
    method: method === 'rtn' ? 'rtn' : 'gptq',
    layout: 'gptq',
    checkpointFormat: format,
    bits,
    groupSize,
    sym: pick(config, ['sym'], isBool, 'a boolean') ?? gptq.sym,
    descAct: pick(config, ['desc_act'], isBool, 'a boolean') ?? gptq.desc_act,
    staticGroups: pick(config, ['static_groups'], isBool, 'a boolean') ?? gptq.static_groups,
    actGroupAware: pick(config, ['act_group_aware'], isBool, 'a boolean') ?? gptq.act_group_aware,
    mse: pick(config, ['mse'], isNumber, 'a number') ?? gptq.mse,
    gptaqAlpha: gptaqAlphaOf(config),
    dampPercent: pick(config, ['damp_percent'], isNumber, 'a number') ?? gptq.damp_percent,
    dampAutoIncrement: pick(config, ['damp_auto_increment'], isNumber, 'a number') ?? gptq.damp_auto_increment,
    trueSequential: pick(config, ['true_sequential'], isBool, 'a boolean') ?? gptq.true_sequential,
    skipModules,
    dataset,
    ...dynamic,
  };
}
