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
import { CalibrationOptions, CalibrationWindows, calibrationWindows } from './calibration';
import { cancelFlag } from './groupQuantized';
import {
  allocateBits,
  checkBudget,
  checkSignRound,
  checkSignRoundModel,
  decoderLayersOf,
  mixedPrecisionDefaults,
  mixedPrecisionWidths,
  planFromConfig,
  QuantizeConfigError,
  RuntimeConfig,
  readLocalModel,
  readRuntimeConfigWithText,
  resolveSignRound,
} from '../model';
import type {
  BitsAllocation,
  JsonObject,
  MixedPrecisionOptions,
  PipelinePlan,
  QuantAlgorithm,
  SignRoundOptions,
  SignRoundPlan,
  WidthSensitivity,
} from '../model';
import { TextTokenizer } from './tokenizer';
import { engineAdapter, LoraModulePlan, readLoraAdapter } from './loraAdapter';

// The plan is model knowledge (native/model/pipelinePlan.ts); the engine's callers keep importing it from here.
export { planFromConfig, QuantizeConfigError } from '../model';
export type { PipelinePlan, QuantAlgorithm } from '../model';

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
  /** Merge then quantize: a PEFT LoRA adapter folder merged into the float weights (W += scale·B·A in fp32) first. */
  adapter?: string;
  /** GPTQ: widen the most sensitive decoder layers to a bits-per-weight budget, written as `dynamic`
   *  (native/model/bitsAllocation.ts). */
  mixedPrecision?: MixedPrecisionOptions;
  /** GPTQ: learned rounding (AutoRound's SignRound) instead of GPTQ's error feedback (native/model/signRound.ts). */
  signRound?: SignRoundOptions;
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
  /** GPTQ modules whose Hessian factorised only with more damping than damp_percent (GPTQModel 7.7's
   *  damp_auto_increment), with the damping used. */
  raisedDamping?: { module: string; dampPercent: number }[];
  /** signRound: the batch's mean squared output error at round-to-nearest (the first iteration) and at the kept one. */
  signRound?: { startLoss: number; bestLoss: number; bestIteration: number };
}

/** 'round': signRound's iterations on the layer being tuned (done of total). */
export type QuantizePhase = 'tokenize' | 'allocate' | 'load' | 'calibrate' | 'round' | 'layer' | 'write' | 'done';

export interface QuantizeProgress {
  phase: QuantizePhase;
  /** allocate and layer: layers done of total; write: tensors written of total. */
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
  /** With mixedPrecision: the layers widened and why; the written config's `dynamic` holds them. */
  allocation?: BitsAllocation;
}

interface PipelineNativeOptions extends Omit<PipelinePlan, 'dataset'> {
  source: string;
  out: string;
  overwrite: boolean;
  model: RuntimeConfig;
  sourceConfigJson: string;
  lora?: { file: string; modules: LoraModulePlan[] };
  calibration?: Int32Array;
  seqLen?: number;
  maxShardBytes?: number;
  /** GPTQ with learned rounding; absent: GPTQ's error feedback. */
  signRound?: SignRoundPlan;
}

export interface PipelineAddon {
  quantizePipeline(
    options: PipelineNativeOptions,
    onProgress: (p: QuantizeProgress) => void,
    cancel: Int32Array,
  ): Promise<QuantizeModelResult>;
  measureWidthSensitivity(
    options: PipelineNativeOptions,
    widths: number[],
    onProgress: (done: number, total: number) => void,
    cancel: Int32Array,
  ): Promise<WidthSensitivity>;
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
  const source = path.resolve(options.model);
  const { config: model, text: sourceConfigJson } = readRuntimeConfigWithText(source);
  const nativeOptions = (config: Record<string, unknown>): PipelineNativeOptions => {
    const { dataset: _dataset, ...engine } = planFromConfig(config, options.algorithm);
    return {
      ...engine,
      source,
      out: path.resolve(options.out),
      overwrite: options.overwrite ?? false,
      model,
      sourceConfigJson,
      maxShardBytes: options.maxShardBytes ?? 0,
      ...(options.adapter === undefined ? {} : { lora: engineAdapter(readLoraAdapter(options.adapter)) }),
    };
  };
  const plan = planFromConfig(options.config, options.algorithm);
  // Before tokenizing: a config learned rounding cannot run costs no work.
  let signRound: SignRoundPlan | undefined;
  if (options.signRound) {
    checkSignRound(options.config, plan);
    checkSignRoundModel(model);
    signRound = resolveSignRound(options.signRound);
  }
  let windows: CalibrationWindows | undefined;
  if (plan.method === 'gptq' || plan.method === 'awq') {
    onProgress?.({ phase: 'tokenize', done: 0, total: 1 });
    windows = planCalibration(source, plan, options.calibration);
    if (signal?.aborted) throw abortError();
  }
  const addon: PipelineAddon = loadAddon();
  const calibrated = (config: Record<string, unknown>, w: CalibrationWindows | undefined): PipelineNativeOptions => ({
    ...nativeOptions(config),
    ...(w ? { calibration: w.ids, seqLen: w.seqlen } : {}),
  });
  try {
    let config = options.config;
    let allocation: BitsAllocation | undefined;
    if (options.mixedPrecision) {
      allocation = await allocate(addon, options, plan, windows, calibrated, control);
      config = { ...config, dynamic: allocation.dynamic };
    }
    const pipeline = { ...calibrated(config, windows), ...(signRound ? { signRound } : {}) };
    const result = await addon.quantizePipeline(pipeline, (p) => onProgress?.(p), cancelFlag(signal));
    return allocation ? { ...result, allocation } : result;
  } catch (e) {
    if (e instanceof Error && e.message === 'cancelled') throw abortError();
    throw e;
  }
}

/** Measures each layer's sensitivity on the first `samples` calibration windows and spends the budget. */
async function allocate(
  addon: PipelineAddon,
  options: QuantizeModelOptions,
  plan: PipelinePlan,
  windows: CalibrationWindows | undefined,
  calibrated: (config: Record<string, unknown>, w: CalibrationWindows | undefined) => PipelineNativeOptions,
  { onProgress, signal }: QuantizeControl,
): Promise<BitsAllocation> {
  const mixed = options.mixedPrecision!;
  const config = options.config as JsonObject;
  const { base, wide } = mixedPrecisionWidths(config, mixed);
  if (plan.method !== 'gptq' || !windows) throw new QuantizeConfigError('mixedPrecision: GPTQ jobs only (they calibrate)');
  if (options.adapter !== undefined) {
    throw new QuantizeConfigError('mixedPrecision: not with an adapter (the sensitivity is measured on the model as stored)');
  }
  const { tensors } = await readLocalModel(path.resolve(options.model));
  checkBudget(tensors, config, mixed);
  const layerCount = decoderLayersOf(tensors).length;
  const samples = Math.min(mixed.samples ?? mixedPrecisionDefaults.samples, windows.ids.length / windows.seqlen);
  const scored: CalibrationWindows = { ...windows, ids: windows.ids.subarray(0, samples * windows.seqlen) };
  onProgress?.({ phase: 'allocate', done: 0, total: layerCount });
  const sensitivity = await addon.measureWidthSensitivity(
    calibrated(options.config, scored),
    [base, wide],
    (done, total) => onProgress?.({ phase: 'allocate', done, total }),
    cancelFlag(signal),
  );
  return allocateBits(tensors, config, mixed, sensitivity);
}
