// The options of the jobs the editor commands start, from what was picked and the settings, in the shapes
// native/worker/validateJob.ts accepts. No `vscode` import.
import * as path from 'path';
import type { JsonObject } from '../../../../native/worker/protocol';
import { quantizationConfigOf, quantizedCheckpointOf, readJsonObject } from '../../jobs';
import type { GenerateSettings } from '../settings';

/** An input box's check for a positive whole number: the message to show, or undefined when fine. */
export function positiveIntegerProblem(text: string): string | undefined {
  return /^\s*[1-9][0-9]*\s*$/.test(text) ? undefined : 'Enter a whole number of 1 or more.';
}

/** Generate options: the prompt, max tokens, and sampling from the settings (temperature 0 = greedy). */
export function generateOptions(prompt: string, maxTokens: number, sampling: Omit<GenerateSettings, 'backend'>): JsonObject {
  return { prompt, maxTokens, temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: sampling.seed };
}

/** Perplexity options: the protocol's 256-token windows, on a text file or (none) the bundled WikiText-2 test text. */
export function perplexityOptions(textFile: string | undefined): JsonObject {
  return textFile ? { text: textFile, seq: 256 } : { seq: 256 };
}

/**
 * A benchmark variant beside the fp16 baseline: a quantization_config to quantize with, or a quantized checkpoint
 * folder. A config without a name is labelled by the worker from its method, bits and group size.
 */
export type BenchmarkVariant = { name?: string; config: JsonObject; algorithm?: string } | { name: string; model: string };

/**
 * A config file in any supported shape (job file, config.json, quantize_config.json, quant_config.json,
 * a bare quantization_config) as a variant; a job file's `algorithm` comes along. An error message naming
 * the file when it holds no quantization config.
 */
export function configVariant(file: string): BenchmarkVariant | string {
  const checkpoint = quantizedCheckpointOf(file);
  if (checkpoint !== undefined) return checkpointVariant(checkpoint); // never quantize quantized weights again
  const value = readJsonObject(file);
  if (typeof value === 'string') return value;
  const config = quantizationConfigOf(file, value);
  if (typeof config === 'string') return config;
  // a job file's name says what it is; quantize_config.json and the like say nothing, so the method labels those
  const name = file.endsWith('.quant.json') ? { name: path.basename(file, '.quant.json') } : {};
  return { ...name, config, ...(typeof value.algorithm === 'string' ? { algorithm: value.algorithm } : {}) };
}

export function checkpointVariant(folder: string): BenchmarkVariant {
  return { name: path.basename(folder), model: folder };
}

export function benchmarkOptions(variants: readonly BenchmarkVariant[], batchSizes: readonly number[]): JsonObject {
  return { variants: variants.map((v) => ({ ...v })), batchSizes: [...batchSizes] };
}
