// The one reader of a model's config.json: file → text → JSON object → typed fields. The estimate side
// (architecture.ts, localFolder.ts, hub.ts) and the runtime side (runtimeConfig, ropeConfig, gemmaConfig) both
// read through it, so a key is looked up and checked in one place. Every failure names the file and the field.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { otherThanFile } from './fileKind';

export type Json = Record<string, unknown>;

export const CONFIG_FILE = 'config.json';

/** A config file that cannot be read or a field it lacks: `file` is where, `problem` what (message: both). */
export class ModelConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export function fail(file: string, field: string, what: string): never {
  throw new ModelConfigError(file, `\`${field}\` ${what}`);
}

/** JSON text that must hold an object (config.json, generation_config.json, a weight index). */
export function parseJsonObject(text: string, file: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(file, `cannot read it as JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelConfigError(file, 'expected a JSON object');
  return value as Json;
}

/** A JSON object file of a model folder, with its text; undefined when nothing has the name. */
export function readJsonObjectFile(file: string): { config: Json; text: string } | undefined {
  const other = otherThanFile(file);
  if (other) throw new ModelConfigError(file, other);
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  return { config: parseJsonObject(text, file), text };
}

/** `<folder>/config.json`: its object and its text (the quantize pipeline writes the text back). */
export function readModelConfig(folder: string): { config: Json; text: string; file: string } {
  const file = path.join(folder, CONFIG_FILE);
  const read = readJsonObjectFile(file);
  if (!read) throw new ModelConfigError(file, 'not found; a model folder needs its config.json');
  return { ...read, file };
}

/** A positive integer, the fallback when absent. */
export function int(cfg: Json, file: string, field: string, fallback?: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(file, field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A finite number, the fallback when absent. */
export function num(cfg: Json, file: string, field: string, fallback: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, field, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** The decoder's size as the Llama family's configs (Llama, Mistral, Qwen, Phi-3, Gemma) name it. */
export interface DecoderShape {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
}

/** A Llama-family decoder shape; `headDim` absent: hidden_size / num_attention_heads when the config has no head_dim. */
export function decoderShape(cfg: Json, file: string, defaults: { headDim?: number; maxPositions: number }): DecoderShape {
  const hiddenSize = int(cfg, file, 'hidden_size');
  const heads = int(cfg, file, 'num_attention_heads');
  return {
    hiddenSize,
    intermediateSize: int(cfg, file, 'intermediate_size'),
    layers: int(cfg, file, 'num_hidden_layers'),
    heads,
    kvHeads: int(cfg, file, 'num_key_value_heads', heads),
    headDim: cfg.head_dim == null && defaults.headDim === undefined ? hiddenSize / heads : int(cfg, file, 'head_dim', defaults.headDim),
    vocabSize: int(cfg, file, 'vocab_size'),
    maxPositions: int(cfg, file, 'max_position_embeddings', defaults.maxPositions),
  };
}

/** The first of `keys` holding a positive integer (model families name a field differently); undefined when none does. */
export function firstPositiveInt(cfg: Json, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const v = cfg[key];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** The object under `key`, when it holds one. */
export function objectAt(cfg: Json, key: string): Json | undefined {
  const v = cfg[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}
