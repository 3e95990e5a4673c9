// Quantizes a Hugging Face model folder into a checkpoint in the ecosystem's layout (GPTQ v1, AutoAWQ
// GEMM/GEMV, bitsandbytes 4-bit/8-bit), layer by layer on the native engine:
//
//   const r = await quantizeModel(
//     { model: 'examples/tiny-llama', config: { quant_method: 'gptq', bits: 4, group_size: 128 }, out: 'tiny-gptq' },
//     { onProgress: (p) => console.error(p.phase, p.done, p.total), signal },
//   );
//
// `config` is a `quantization_config` object as config.json holds it (GPTQConfig, AwqConfig — also AutoAWQ's
// quant_config.json spelling — or BitsAndBytesConfig). `algorithm: 'rtn'` rounds to nearest into the GPTQ
// (or, with an AWQ config, AWQ) layout without calibration. The output is written to a temp folder renamed
// at the end; cancelling (signal) or any error leaves no output, and the source folder is never written.
import * as path from 'path';
import { loadAddon } from './addon';
import { CalibrationDataset, CalibrationOptions, CalibrationWindows, calibrationWindows } from './calibration';
import { QUANT_DEFAULTS } from '../model';
import { cancelFlag } from './groupQuantized';
import { CHECKPOINT_LAYOUTS, LayoutName, RuntimeConfig, readRuntimeConfigWithText } from '../model';
import { TextTokenizer } from './tokenizer';
import { dynamicPlan } from './gptqDynamicPlan';
import type { DynamicPlanRule } from './gptqDynamicPlan';

export type QuantAlgorithm = 'rtn' | 'gptq' | 'awq' | 'bitsandbytes';

export interface QuantizeModelOptions {
  /** Source model folder (config.json, safetensors, tokenizer files). */
  model: string;
  /** A quantization_config object (gptq / awq / bitsandbytes). */
  config: Record<string, unknown>;
  /** Defaults to the config's quant_method. */
  algorithm?: QuantAlgorithm;
  out: string;
  /** GPTQ / AWQ only; `dataset` defaults to the config's `dataset`, else 'wikitext2'. */
  calibration?: CalibrationOptions;
  /** Replace a non-empty `out`. Default false. */
  overwrite?: boolean;
  /** Split the weights into shards of at most this many bytes (with model.safetensors.index.json). Default: one file. */
  maxShardBytes?: number;
}

export interface LayerReport {
  /** e.g. model.layers.3 */
  name: string;
  seconds: number;
  /** 'output': ‖ŷ − y‖² / ‖y − x‖² of the layer on the calibration data (y: fp layer output, x: its input);
   *  'weight': ‖Ŵ − W‖² / ‖W‖² over the layer's linears (methods without calibration). */
  error: number;
  errorKind: 'output' | 'weight';
  /** MoE layers under GPTQ and AWQ: the calibration tokens routed to each expert (index = expert). */
  expertTokens?: number[];
  /** The experts with linears quantized round-to-nearest for too few tokens (GPTQModel 7.7's fallback: GPTQ, an expert
   *  under 0.5% of calibration; AWQ, per scale group, so every expert when one got none). */
  fallbackExperts?: number[];
}

export type QuantizePhase = 'tokenize' | 'load' | 'calibrate' | 'layer' | 'write' | 'done';

export interface QuantizeProgress {
  phase: QuantizePhase;
  /** layer: layers done of total; write: tensors written of total. */
  done: number;
  total: number;
  /** phase 'layer': the layer just finished. */
  layer?: LayerReport;
}

export interface QuantizeControl {
  onProgress?: (p: QuantizeProgress) => void;
  /** Aborting stops at the next step boundary and rejects with an AbortError; no output is left. */
  signal?: AbortSignal;
}

export interface QuantizeModelResult {
  out: string;
  /** Bytes of all files written. */
  bytes: number;
  seconds: number;
  layers: LayerReport[];
}

/** What the engine runs: the method, the layout written and their options (native/src/bindings/pipeline_binding.cc). */
export interface PipelinePlan {
  method: 'rtn' | 'gptq' | 'awq' | 'nf4' | 'fp4' | 'int8';
  layout: LayoutName;
  bits?: number;
  groupSize?: number;
  sym?: boolean;
  descAct?: boolean;
  staticGroups?: boolean;
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

interface PipelineNativeOptions extends Omit<PipelinePlan, 'dataset'> {
  source: string;
  out: string;
  overwrite: boolean;
  model: RuntimeConfig;
  sourceConfigJson: string;
  calibration?: Int32Array;
  seqLen?: number;
  maxShardBytes?: number;
}

export interface PipelineAddon {
  quantizePipeline(
    options: PipelineNativeOptions,
    onProgress: (p: QuantizeProgress) => void,
    cancel: Int32Array,
  ): Promise<QuantizeModelResult>;
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
  const format = pick(config, ['checkpoint_format'], isString, 'a string');
  if (format !== undefined && format !== gptq.checkpoint_format) {
    throw new QuantizeConfigError(`quantization_config.checkpoint_format: "${format}" is not written; the pipeline writes "gptq" (v1)`);
  }
  return {
    method: method === 'rtn' ? 'rtn' : 'gptq',
    layout: 'gptq',
    bits,
    groupSize,
    sym: pick(config, ['sym'], isBool, 'a boolean') ?? gptq.sym,
    descAct: pick(config, ['desc_act'], isBool, 'a boolean') ?? gptq.desc_act,
    staticGroups: pick(config, ['static_groups'], isBool, 'a boolean') ?? gptq.static_groups,
    dampPercent: pick(config, ['damp_percent'], isNumber, 'a number') ?? gptq.damp_percent,
    dampAutoIncrement: pick(config, ['damp_auto_increment'], isNumber, 'a number') ?? gptq.damp_auto_increment,
    trueSequential: pick(config, ['true_sequential'], isBool, 'a boolean') ?? gptq.true_sequential,
    skipModules,
    dataset,
    ...dynamic,
  };
}

function abortError(): Error {
  const e = new Error('quantization cancelled; no output was written');
  e.name = 'AbortError';
  return e;
}

/** The calibration windows a plan quantizes with: the job's calibration options, the dataset defaulting to the
 *  config's own. Every backend takes its tokens from here, so the same job calibrates on the same tokens. */
export function planCalibration(source: string, plan: PipelinePlan, calibration: CalibrationOptions = {}): CalibrationWindows {
  const tokenizer = calibration.tokens ? undefined : TextTokenizer.load(source);
  return calibrationWindows(tokenizer, { ...calibration, dataset: calibration.dataset ?? plan.dataset });
}

/** Quantizes options.model into options.out. Rejects with a message naming what is wrong (AbortError when cancelled). */
export async function quantizeModel(options: QuantizeModelOptions, control: QuantizeControl = {}): Promise<QuantizeModelResult> {
  const { onProgress, signal } = control;
  if (signal?.aborted) throw abortError();
  const plan = planFromConfig(options.config, options.algorithm);
  const { dataset: _dataset, ...engine } = plan;
  const source = path.resolve(options.model);
  const { config: model, text: sourceConfigJson } = readRuntimeConfigWithText(source);
  const native: PipelineNativeOptions = {
    ...engine,
    source,
    out: path.resolve(options.out),
    overwrite: options.overwrite ?? false,
    model,
    sourceConfigJson,
    maxShardBytes: options.maxShardBytes ?? 0,
  };
  if (plan.method === 'gptq' || plan.method === 'awq') {
    onProgress?.({ phase: 'tokenize', done: 0, total: 1 });
    const windows = planCalibration(source, plan, options.calibration);
    native.calibration = windows.ids;
    native.seqLen = windows.seqlen;
    if (signal?.aborted) throw abortError();
  }
  const addon: PipelineAddon = loadAddon();
  try {
    return await addon.quantizePipeline(native, (p) => onProgress?.(p), cancelFlag(signal));
  } catch (e) {
    if (e instanceof Error && e.message === 'cancelled') throw abortError();
    throw e;
  }
}
