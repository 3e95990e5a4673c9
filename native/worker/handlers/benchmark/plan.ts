// A benchmark job's options, checked and completed with defaults before any heavy work: which variants
// (the job's model as the baseline first, then each config and checkpoint variant), batch sizes, token counts.
// Every mistake is a JobFailure naming the option (`options.variants[2].model`, …) and what to write instead.
import * as fs from 'fs';
import * as path from 'path';
import type { CalibrationOptions, KvCacheType, LmHeadType } from '../../../lib';
import { ModelConfigError, planFromConfig, QuantAlgorithm, QuantizeConfigError, readRuntimeConfig, RuntimeConfig } from '../../../lib';
import { checkBackendOptions, jobBackend, JobBackend } from '../../jobBackend';
import { JobFailure } from '../../jobFailure';
import type { Job, JsonObject } from '../../protocol';
import { QuantDescription, describeFolder, describePlan, labelOf } from './describe';
import type { EvaluatePlan } from './messages';

export type VariantSource =
  { kind: 'model'; folder: string } | { kind: 'config'; config: JsonObject; algorithm?: QuantAlgorithm; calibration: CalibrationOptions };

export interface VariantPlan {
  label: string;
  /** The option the variant came from, for errors. */
  where: string;
  description: QuantDescription;
  source: VariantSource;
}

export interface BenchmarkPlan {
  /** The baseline (the job's model) first. */
  variants: VariantPlan[];
  batchSizes: number[];
  promptLength: number;
  generate: { promptTokens: number; newTokens: number[] };
  evaluate: EvaluatePlan | null;
  repeat: number;
  kvCache: KvCacheType;
  lmHead: LmHeadType;
  /** A PEFT LoRA adapter folder applied over every variant (the engine only). */
  adapter?: string;
  /** What quantizes the config variants and measures every variant. */
  backend: JobBackend;
  /** Python backend: GPTQModel's kernel (its BACKEND value) for GPTQ and AWQ checkpoints; undefined: its auto pick. */
  kernel?: string;
}

export const BENCHMARK_DEFAULTS = {
  batchSizes: [1, 16],
  promptLength: 512,
  /** As transformers' quantization benchmarks: 30 and 512 new tokens after a 30-token prompt. */
  generate: { promptTokens: 30, newTokens: [30, 512] },
  /** A short slice of WikiText-2 test: a figure in seconds on a small model; raise maxTokens for the full protocol. */
  evaluate: { maxTokens: 4096, seq: 256 },
  /** Small on purpose: a benchmark compares speed and memory first; pass more for a better quantization. The
   *  dataset is the config's own when it names one, else WikiText-2 valid (the pipeline's default). */
  calibration: { nsamples: 16, seqlen: 256, seed: 0 } as CalibrationOptions,
  /** Timed runs per figure after a warm-up: the median, with min–max beside it. */
  repeat: 3,
} as const;

const ALGORITHMS: readonly QuantAlgorithm[] = ['rtn', 'gptq', 'awq', 'bitsandbytes'];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(where: string, message: string): never {
  throw new JobFailure('INVALID_JOB', `${where} ${message}`, where);
}

function positiveInteger(value: unknown, where: string, minimum = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum)
    invalid(where, `must be an integer ≥ ${minimum}, got ${JSON.stringify(value)}`);
  return value;
}

function integerList(value: unknown, where: string, minimum = 1): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    invalid(where, `must be a non-empty list of integers ≥ ${minimum}, got ${JSON.stringify(value)}`);
  return [...new Set(list.map((v, i) => positiveInteger(v, `${where}[${i}]`, minimum)))].sort((a, b) => a - b);
}

function runtimeConfigOf(folder: string, where: string): RuntimeConfig {
  try {
    return readRuntimeConfig(folder);
  } catch (error) {
    if (error instanceof ModelConfigError) throw new JobFailure('INVALID_MODEL', `${where}: ${error.message}`, where);
    throw error;
  }
}

/** A checkpoint variant's folder, absolute, checked to exist and to share the model's vocabulary. */
function checkpointFolder(value: unknown, where: string, baseline: RuntimeConfig): string {
  if (typeof value !== 'string' || value === '') invalid(where, `must be a checkpoint folder path, got ${JSON.stringify(value)}`);
  const folder = path.resolve(value);
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory() || !fs.existsSync(path.join(folder, 'config.json'))) {
    throw new JobFailure(
      'INPUT_NOT_FOUND',
      `${where}: checkpoint folder not found: ${folder}; name a folder holding config.json and the weights`,
      folder,
    );
  }
  const config = runtimeConfigOf(folder, folder);
  if (config.vocabSize !== baseline.vocabSize) {
    invalid(
      where,
      `(${folder}) has a vocabulary of ${config.vocabSize} tokens, the model ${baseline.vocabSize}; variants must share the model's tokenizer`,
    );
  }
  return folder;
}

function configVariant(
  item: JsonObject,
  where: string,
  calibration: CalibrationOptions,
): { source: VariantSource; description: QuantDescription } {
  const { config, algorithm } = item;
  if (!isObject(config)) invalid(`${where}.config`, 'must be a quantization_config object');
  if (algorithm !== undefined && !ALGORITHMS.includes(algorithm as QuantAlgorithm))
    invalid(`${where}.algorithm`, `must be one of ${ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  if (item.calibration !== undefined && !isObject(item.calibration)) invalid(`${where}.calibration`, 'must be an object');
  try {
    const plan = planFromConfig(config, algorithm as QuantAlgorithm | undefined);
    const source: VariantSource = {
      kind: 'config',
      config,
      calibration: { ...calibration, ...(item.calibration as CalibrationOptions | undefined) },
    };
    if (algorithm !== undefined) source.algorithm = algorithm as QuantAlgorithm;
    return { source, description: describePlan(plan) };
  } catch (error) {
    if (error instanceof QuantizeConfigError) throw new JobFailure('INVALID_JOB', `${where}.config: ${error.message}`, `${where}.config`);
    throw error;
  }
}

function variantsOf(job: Job, modelFolder: string, baseline: RuntimeConfig): VariantPlan[] {
  const calibration = { ...BENCHMARK_DEFAULTS.calibration, ...(job.options.calibration as CalibrationOptions | undefined) };
  const items: Array<{ item: JsonObject; where: string }> = [];
  if (job.config !== undefined) items.push({ item: { config: job.config }, where: 'config' });
  const listed = job.options.variants ?? [];
  if (!Array.isArray(listed)) invalid('options.variants', 'must be a list of {config} or {model} objects');
  listed.forEach((item, i) => {
    const where = `options.variants[${i}]`;
    if (!isObject(item))
      invalid(
        where,
        `must be an object with "config" (a quantization_config) or "model" (a checkpoint folder), got ${JSON.stringify(item)}`,
      );
    const known = ['name', 'config', 'model', 'algorithm', 'calibration'];
    const unknown = Object.keys(item).find((k) => !known.includes(k));
    if (unknown !== undefined) invalid(`${where}.${unknown}`, `is not a variant field (known: ${known.join(', ')})`);
    if ((item.config === undefined) === (item.model === undefined))
      invalid(where, 'needs exactly one of "config" (a quantization_config to quantize with) and "model" (a checkpoint folder)');
    if (item.name !== undefined && (typeof item.name !== 'string' || item.name.trim() === ''))
      invalid(`${where}.name`, 'must be a non-empty string');
    items.push({ item, where });
  });

  const variants: VariantPlan[] = [
    { label: '', where: 'model', description: describeFolder(modelFolder), source: { kind: 'model', folder: modelFolder } },
  ];
  for (const { item, where } of items) {
    if (item.model !== undefined) {
      if (item.algorithm !== undefined || item.calibration !== undefined)
        invalid(where, 'is a checkpoint (model) variant; algorithm and calibration apply to config variants only');
      const folder = checkpointFolder(item.model, `${where}.model`, baseline);
      variants.push({
        label: typeof item.name === 'string' ? item.name : path.basename(folder),
        where,
        description: describeFolder(folder),
        source: { kind: 'model', folder },
      });
    } else {
      const { source, description } = configVariant(item, where, calibration);
      variants.push({ label: typeof item.name === 'string' ? item.name : '', where, description, source });
    }
  }
  // Labels name the method unless given; repeated ones get a number so every row says which variant it is.
  const seen = new Map<string, number>();
  for (const v of variants) {
    const base = v.label || labelOf(v.description);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    v.label = n === 1 ? base : `${base} (${n})`;
  }
  return variants;
}

function generateOf(value: unknown, limit: number): BenchmarkPlan['generate'] {
  if (value === undefined) {
    // the default lengths that fit the model's positions (a short-context model still gets the 30-token run)
    const { promptTokens, newTokens } = BENCHMARK_DEFAULTS.generate;
    const fitting = newTokens.filter((n) => promptTokens + n <= limit);
    return { promptTokens, newTokens: fitting.length > 0 ? fitting : [newTokens[0]] };
  }
  if (!isObject(value)) invalid('options.generate', 'must be an object {promptTokens, newTokens}');
  const unknown = Object.keys(value).find((k) => k !== 'promptTokens' && k !== 'newTokens');
  if (unknown !== undefined) invalid(`options.generate.${unknown}`, 'is not an option (known: promptTokens, newTokens)');
  const promptTokens =
    value.promptTokens === undefined
      ? BENCHMARK_DEFAULTS.generate.promptTokens
      : positiveInteger(value.promptTokens, 'options.generate.promptTokens');
  // Two at least: the prefill yields the first token, the decode steps timed are the rest.
  const newTokens =
    value.newTokens === undefined
      ? [...BENCHMARK_DEFAULTS.generate.newTokens]
      : integerList(value.newTokens, 'options.generate.newTokens', 2);
  const longest = Math.max(...newTokens);
  if (promptTokens + longest > limit)
    invalid('options.generate', `asks for ${promptTokens} + ${longest} tokens; the model runs at most ${limit} positions`);
  return { promptTokens, newTokens };
}

function evaluateOf(value: unknown): EvaluatePlan | null {
  if (value === false) return null;
  if (value === undefined) return { ...BENCHMARK_DEFAULTS.evaluate };
  if (!isObject(value)) invalid('options.evaluate', 'must be {maxTokens, seq} or false (no perplexity)');
  const unknown = Object.keys(value).find((k) => k !== 'maxTokens' && k !== 'seq');
  if (unknown !== undefined) invalid(`options.evaluate.${unknown}`, 'is not an option (known: maxTokens, seq)');
  return {
    maxTokens:
      value.maxTokens === undefined
        ? BENCHMARK_DEFAULTS.evaluate.maxTokens
        : positiveInteger(value.maxTokens, 'options.evaluate.maxTokens', 2),
    seq: value.seq === undefined ? BENCHMARK_DEFAULTS.evaluate.seq : positiveInteger(value.seq, 'options.evaluate.seq', 2),
  };
}

export function benchmarkPlan(job: Job, modelFolder: string): BenchmarkPlan {
  const o = job.options;
  const backend = jobBackend(o);
  checkBackendOptions(o, backend);
  const baseline = runtimeConfigOf(modelFolder, modelFolder);
  const limit = baseline.maxPositions;
  const promptLength =
    o.promptLength === undefined
      ? Math.min(BENCHMARK_DEFAULTS.promptLength, limit)
      : positiveInteger(o.promptLength, 'options.promptLength');
  if (promptLength > limit) invalid('options.promptLength', `is ${promptLength}; the model runs at most ${limit} positions`);
  return {
    variants: variantsOf(job, modelFolder, baseline),
    batchSizes: o.batchSizes === undefined ? [...BENCHMARK_DEFAULTS.batchSizes] : integerList(o.batchSizes, 'options.batchSizes'),
    promptLength,
    generate: generateOf(o.generate, limit),
    evaluate: evaluateOf(o.evaluate),
    repeat: o.repeat === undefined ? BENCHMARK_DEFAULTS.repeat : positiveInteger(o.repeat, 'options.repeat'),
    kvCache: (o.kvCache as KvCacheType | undefined) ?? 'fp32', // checked by validateJob
    lmHead: (o.lmHead as LmHeadType | undefined) ?? 'stored',
    ...(typeof o.adapter === 'string' ? { adapter: o.adapter } : {}),
    backend,
    ...(typeof o.kernel === 'string' && o.kernel !== 'auto' ? { kernel: o.kernel } : {}),
  };
}
