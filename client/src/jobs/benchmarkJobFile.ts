// Turns what `quantstudio benchmark` is given — a *.quant.json job file with a `benchmark` section, or
// --model with --config files and --variant folders — into a benchmark job. Paths in a job file are relative
// to it; a job file's own quantization_config (with its algorithm and calibration) is one of the variants.
import { dirname, resolve } from 'node:path';
import type { Job } from './runner';
import { quantizedCheckpointOf } from './checkpointFolder';
import { jobFileModel } from './jobFileModel';
import { quantizationConfigOf, readJsonObject } from './quantizeJobFile';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A calibration dataset that is not a built-in name is a file path, relative to the job file. */
function resolvedCalibration(calibration: unknown, base: string): Json | undefined {
  if (!isObject(calibration)) return undefined;
  const copy = { ...calibration };
  if (typeof copy.dataset === 'string' && copy.dataset !== 'wikitext2') copy.dataset = resolve(base, copy.dataset);
  return copy;
}

/**
 * A --config file as a config variant: its quantization_config, and a job file's algorithm and calibration.
 * The config of a quantized checkpoint (its quantize_config.json) stands for the checkpoint folder as it is.
 */
export function configVariantOf(file: string): Json | string {
  const checkpoint = quantizedCheckpointOf(file);
  if (checkpoint !== undefined) return { model: checkpoint };
  const value = readJsonObject(file);
  if (typeof value === 'string') return value;
  const config = quantizationConfigOf(file, value);
  if (typeof config === 'string') return config;
  const variant: Json = { config };
  if (typeof value.algorithm === 'string') variant.algorithm = value.algorithm;
  const calibration = resolvedCalibration(value.calibration, dirname(resolve(file)));
  if (calibration) variant.calibration = calibration;
  return variant;
}

/** Benchmark options a job file's `benchmark` section may set (see schemas/job.schema.json). */
const SECTION_OPTIONS = [
  'batchSizes',
  'promptLength',
  'generate',
  'evaluate',
  'calibration',
  'repeat',
  'kvCache',
  'lmHead',
  'kernel',
  'adapter',
] as const;

/** Fields of benchmark.endpoint passed to a serving job as they are (schemas/job.schema.json). */
const ENDPOINT_OPTIONS = ['concurrency', 'requests', 'promptWords', 'maxTokens', 'ignoreEos'] as const;

/** benchmark.endpoint → a serving job: the server at `url`, asked for `model` (default: the job file's model as written). */
function servingJobOf(file: string, endpoint: unknown, model: string): Job | string {
  if (!isObject(endpoint)) return `${file}: benchmark.endpoint must be an object { "url": … }`;
  if (typeof endpoint.url !== 'string')
    return `${file}: benchmark.endpoint.url (the server's API base, e.g. http://127.0.0.1:8000/v1) is missing`;
  const options: Json = { endpoint: endpoint.url };
  for (const key of ENDPOINT_OPTIONS) if (endpoint[key] !== undefined) options[key] = endpoint[key];
  return { kind: 'serving', model: typeof endpoint.model === 'string' ? endpoint.model : model, options };
}

/** A *.quant.json job file → a benchmark job: its model, its config as the first variant, the section's variants;
 *  a section with an `endpoint` → a serving job against that server instead. */
export function benchmarkJobFromJobFile(file: string): Job | string {
  const value = readJsonObject(file);
  if (typeof value === 'string') return value;
  if (typeof value.model !== 'string') return `${file}: "model" (the model folder) is missing`;
  const base = dirname(resolve(file));
  const own = configVariantOf(file);
  if (typeof own === 'string') return own;
  const section = value.benchmark ?? {};
  if (!isObject(section)) return `${file}: "benchmark" must be an object`;
  if (section.endpoint !== undefined) return servingJobOf(file, section.endpoint, value.model);
  const options: Json = {};
  for (const key of SECTION_OPTIONS) if (section[key] !== undefined) options[key] = section[key];
  if (options.calibration !== undefined) options.calibration = resolvedCalibration(options.calibration, base) ?? options.calibration;
  // A PEFT LoRA adapter folder, relative to the job file, applied over every variant.
  if (typeof options.adapter === 'string') options.adapter = resolve(base, options.adapter);
  const listed = section.variants ?? [];
  if (!Array.isArray(listed)) return `${file}: benchmark.variants must be a list`;
  const variants = listed.map((v: unknown) => {
    if (!isObject(v)) return v;
    const copy = { ...v };
    if (typeof copy.model === 'string') copy.model = resolve(base, copy.model);
    const calibration = resolvedCalibration(copy.calibration, base);
    if (calibration) copy.calibration = calibration;
    return copy;
  });
  options.variants = [own, ...variants];
  if (value.backend !== undefined) options.backend = value.backend; // the worker names a value it does not know
  return { kind: 'benchmark', model: jobFileModel(base, value.model), options };
}
