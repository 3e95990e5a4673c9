// Turns what `quantstudio quantize` is given — a *.quant.json job file, or --model/--config/--out with a
// config file in any of the supported shapes — into an engine job. Paths in a job file are relative to it.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { quantizationConfigOf as quantizationConfigFrom } from '../../../native/model';
import type { JsonObject } from '../../../native/model';
import type { Job } from './runner';
import { jobFileModel } from './jobFileModel';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a JSON object from a file, or returns an error message naming the file. */
export function readJsonObject(file: string): Json | string {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `${file}: cannot read it as JSON (${(e as Error).message})`;
  }
  return isObject(value) ? value : `${file}: expected a JSON object`;
}

/** The quantization_config inside a config file of any supported shape (native/model's quantizationConfigOf), or an error naming the file. */
export function quantizationConfigOf(file: string, value: Json): Json | string {
  return (
    quantizationConfigFrom(value as JsonObject, file) ??
    `${file}: no quantization config found (expected quantization_config, quant_method, AutoGPTQ's bits or AutoAWQ's w_bit)`
  );
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** "5GB", "500MB", "2GiB" or a byte count → bytes (decimal units, as transformers' max_shard_size reads them). */
export function parseShardSize(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?$/i.exec(value.trim());
  if (!match) return undefined;
  const unit = SIZE_UNITS[(match[2] ?? 'B').toUpperCase()];
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit);
}

/** The default largest shard, as transformers' save_pretrained uses. */
export const DEFAULT_MAX_SHARD_BYTES = 5e9;

/** A *.quant.json job file → a quantize job (paths resolved against the file's folder). */
export function jobFromJobFile(file: string): Job | string {
  const value = readJsonObject(file);
  if (typeof value === 'string') return value;
  const base = dirname(resolve(file));
  const config = quantizationConfigOf(file, value);
  if (typeof config === 'string') return config;
  if (typeof value.model !== 'string') return `${file}: "model" (the model folder) is missing`;
  if (typeof value.output !== 'string') return `${file}: "output" (the folder to write) is missing`;
  const options: Json = { out: resolve(base, value.output) };
  if (typeof value.algorithm === 'string') options.algorithm = value.algorithm;
  if (value.backend !== undefined) options.backend = value.backend; // the worker names a value it does not know
  if (value.format !== undefined) options.format = value.format;
  // Merge then quantize: a PEFT LoRA adapter folder, relative to the job file.
  if (typeof value.adapter === 'string') options.adapter = resolve(base, value.adapter);
  if (value.mixedPrecision !== undefined) options.mixedPrecision = value.mixedPrecision; // the worker checks its fields
  if (value.signRound !== undefined) options.signRound = value.signRound; // the worker checks its fields
  if (isObject(value.calibration)) {
    const calibration = { ...value.calibration };
    // A dataset that is not a built-in name is a file path, relative to the job file.
    if (typeof calibration.dataset === 'string' && calibration.dataset !== 'wikitext2')
      calibration.dataset = resolve(base, calibration.dataset);
    options.calibration = calibration;
  }
  const runOptions = isObject(value.options) ? value.options : {};
  for (const key of ['evaluate', 'generate'] as const) if (isObject(runOptions[key])) options[key] = runOptions[key];
  if (runOptions.maxShardSize !== undefined) {
    const bytes = parseShardSize(runOptions.maxShardSize);
    if (bytes === undefined)
      return `${file}: options.maxShardSize ${JSON.stringify(runOptions.maxShardSize)} is not a size such as "5GB", "500MB" or a byte count`;
    options.maxShardBytes = bytes;
  } else options.maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
  return { kind: 'quantize', model: jobFileModel(base, value.model), config, options };
}
