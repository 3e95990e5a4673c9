// Checks a job before any heavy work: its shape, its kind, and that the model folder and input files
// exist, so a typo costs a clear message instead of a crash halfway through.
import * as fs from 'fs';
import * as path from 'path';
import { KV_CACHE_TYPES, LM_HEAD_TYPES, notRegularFile } from '../model';
import { JobFailure } from './jobFailure';
import { JOB_KINDS, Job, JobKind, JsonObject } from './protocol';

type OptionType =
  | 'string'
  | 'positiveInteger'
  | 'positiveIntegers'
  | 'number'
  | 'boolean'
  | 'object'
  | 'objectOrFalse'
  | 'list'
  | 'file'
  | 'folder'
  | 'choice';

/** An option's type; `required` ones must be present; a 'choice' is one of `values`. */
type OptionSpec = { type: OptionType; required?: boolean; values?: readonly string[] };

/** The engine's run options (native/model/runOptions.ts), taken by every job that runs a model. */
const RUN_OPTIONS: Record<string, OptionSpec> = {
  kvCache: { type: 'choice', values: KV_CACHE_TYPES },
  lmHead: { type: 'choice', values: LM_HEAD_TYPES },
  /** A PEFT LoRA adapter folder applied over the model's linears (native/lib/loraAdapter.ts). */
  adapter: { type: 'folder' },
};

/** What runs a quantize or benchmark job (jobBackend.ts names the values). */
const BACKEND_OPTIONS: Record<string, OptionSpec> = {
  backend: { type: 'string' },
  /** The interpreter of the python backend: chosen by the runner's user (setting, CLI flag), never by a job file. */
  python: { type: 'string' },
};

/** The options each kind accepts. */
const OPTION_TABLE: Record<JobKind, Record<string, OptionSpec>> = {
  perplexity: {
    text: { type: 'file' },
    seq: { type: 'positiveInteger' },
    maxTokens: { type: 'positiveInteger' },
    ...RUN_OPTIONS,
    out: { type: 'folder' },
  },
  generate: {
    prompt: { type: 'string', required: true },
    maxTokens: { type: 'positiveInteger' },
    temperature: { type: 'number' },
    topK: { type: 'number' },
    topP: { type: 'number' },
    seed: { type: 'number' },
    ...RUN_OPTIONS,
    out: { type: 'folder' },
    ...BACKEND_OPTIONS,
    kernel: { type: 'string' },
  },
  quantize: {
    out: { type: 'folder', required: true },
    algorithm: { type: 'string' },
    calibration: { type: 'object' },
    overwrite: { type: 'boolean' },
    maxShardBytes: { type: 'positiveInteger' },
    /** Merge then quantize: a PEFT LoRA adapter folder merged into the float weights before quantizing. */
    adapter: { type: 'folder' },
    /** GPTQ: widen the most sensitive layers to a bits-per-weight budget (handlers/quantize.ts checks its fields). */
    mixedPrecision: { type: 'object' },
    /** GPTQ: learned rounding instead of GPTQ's error feedback (handlers/quantize.ts checks its fields). */
    signRound: { type: 'object' },
    evaluate: { type: 'object' },
    generate: { type: 'object' },
    text: { type: 'file' },
    ...BACKEND_OPTIONS,
    /** The python backend's checkpoint format instead of the method's own (jobBackend.ts refuses it on the engine). */
    format: { type: 'choice', values: ['compressed-tensors'] },
  },
  // Nested fields (each variant, generate, evaluate) are checked by the benchmark's plan (handlers/benchmark/plan.ts).
  benchmark: {
    variants: { type: 'list' },
    batchSizes: { type: 'positiveIntegers' },
    promptLength: { type: 'positiveInteger' },
    generate: { type: 'object' },
    evaluate: { type: 'objectOrFalse' },
    calibration: { type: 'object' },
    repeat: { type: 'positiveInteger' },
    ...RUN_OPTIONS,
    ...BACKEND_OPTIONS,
    /** Python backend: GPTQModel's kernel for GPTQ and AWQ checkpoints (the runner checks the name). */
    kernel: { type: 'string' },
  },
  // The job's model is the name the server serves; handlers/serving/plan.ts checks the endpoint's URL.
  serving: {
    endpoint: { type: 'string', required: true },
    concurrency: { type: 'positiveIntegers' },
    requests: { type: 'positiveInteger' },
    promptWords: { type: 'positiveInteger' },
    maxTokens: { type: 'positiveInteger' },
    ignoreEos: { type: 'boolean' },
  },
};

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkOption(name: string, { type, values = [] }: OptionSpec, value: unknown): void {
  const where = `options.${name}`;
  const fail = (expected: string): never => {
    throw new JobFailure('INVALID_JOB', `${where} must be ${expected}, got ${JSON.stringify(value)}`, where);
  };
  switch (type) {
    case 'string':
      if (typeof value !== 'string') fail('a string');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'object':
      if (!isObject(value)) fail('an object');
      return;
    case 'objectOrFalse':
      if (!isObject(value) && value !== false) fail('an object or false');
      return;
    case 'list':
      if (!Array.isArray(value)) fail('a list');
      return;
    case 'positiveInteger':
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail('a positive integer');
      return;
    case 'positiveIntegers':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v > 0))
        fail('a non-empty list of positive integers');
      return;
    case 'folder':
      if (typeof value !== 'string' || value === '') fail('a folder path');
      return;
    case 'choice':
      if (!values.includes(value as string)) fail(values.map((t) => JSON.stringify(t)).join(' or '));
      return;
    case 'file':
      if (typeof value !== 'string' || value === '') fail('a file path');
      checkInputFile(where, value as string);
  }
}

/** An input file must be a regular file: a FIFO would block the read that follows, a directory is not missing. */
function checkInputFile(where: string, value: string): void {
  const file = path.resolve(value);
  const info = fs.statSync(file, { throwIfNoEntry: false });
  if (!info) throw new JobFailure('INPUT_NOT_FOUND', `${where}: file not found: ${file}`, file);
  const other = notRegularFile(info);
  if (other) throw new JobFailure('INVALID_JOB', `${where}: ${file} ${other}`, file);
}

/** The model folder must exist and hold config.json; returns its absolute path. */
export function checkModelFolder(model: string): string {
  const folder = path.resolve(model);
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new JobFailure(
      'MODEL_NOT_FOUND',
      `model folder not found: ${folder}; pick a local folder holding config.json and the weights`,
      folder,
    );
  }
  const config = path.join(folder, 'config.json');
  if (!fs.existsSync(config)) {
    throw new JobFailure('MODEL_NOT_FOUND', `${config}: not found; the model folder needs the model's config.json`, config);
  }
  return folder;
}

export function validateJob(value: unknown): Job {
  if (!isObject(value)) throw new JobFailure('INVALID_JOB', 'a job must be an object { kind, model, options }');
  const { kind, model, config, options } = value;
  if (typeof kind !== 'string' || !(JOB_KINDS as readonly string[]).includes(kind)) {
    throw new JobFailure('INVALID_JOB', `job.kind must be one of ${JOB_KINDS.join(', ')}, got ${JSON.stringify(kind)}`, 'kind');
  }
  if (typeof model !== 'string' || model === '')
    throw new JobFailure('INVALID_JOB', 'job.model must name a model folder or a Hugging Face model id (org/name)', 'model');
  if (config !== undefined && !isObject(config)) throw new JobFailure('INVALID_JOB', 'job.config must be an object', 'config');
  const opts = options ?? {};
  if (!isObject(opts)) throw new JobFailure('INVALID_JOB', 'job.options must be an object', 'options');
  const table = OPTION_TABLE[kind as JobKind];
  for (const name of Object.keys(opts)) {
    const spec = table[name];
    if (!spec)
      throw new JobFailure(
        'INVALID_JOB',
        `options.${name} is not an option of ${kind} jobs (known: ${Object.keys(table).join(', ')})`,
        `options.${name}`,
      );
    checkOption(name, spec, opts[name]);
  }
  for (const [name, spec] of Object.entries(table)) {
    if (spec.required && opts[name] === undefined)
      throw new JobFailure('INVALID_JOB', `${kind} jobs need options.${name}`, `options.${name}`);
  }
  return { kind: kind as JobKind, model, ...(config === undefined ? {} : { config: config as JsonObject }), options: opts };
}
