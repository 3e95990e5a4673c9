// Reads a model folder's config.json into the plain shape the engine runs. Everything the runtime cannot
// honour is an error naming the field, so a model never runs with a silently ignored setting.
import * as fs from 'fs';
import * as path from 'path';

export type ModelFamily = 'llama' | 'opt';

/** What the engine needs to know about a model; passed to the addon as is. */
export interface RuntimeConfig {
  family: ModelFamily;
  architecture: string;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  layerNormBefore: boolean;
  finalLayerNorm: boolean;
  wordEmbedProjDim: number;
  /** Mistral's sliding_window: sequences are limited to it (the window itself is not applied); 0 = none. */
  slidingWindow: number;
  /** Token ids that end generation (config.json and generation_config.json `eos_token_id`). */
  eosTokenIds: number[];
}

const familyOf: Record<string, ModelFamily> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'llama',
  OPTForCausalLM: 'opt',
};

type Json = Record<string, unknown>;

export class ModelConfigError extends Error {}

function fail(file: string, field: string, what: string): never {
  throw new ModelConfigError(`${file}: \`${field}\` ${what}`);
}

function int(cfg: Json, file: string, field: string, fallback?: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(file, field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function num(cfg: Json, file: string, field: string, fallback: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, field, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

function readJson(file: string): Json {
  return parseJson(fs.readFileSync(file, 'utf8'), file);
}

function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new ModelConfigError(`${file}: cannot read it as JSON (${(e as Error).message})`);
  }
}

/** rope_parameters (transformers 5) or the legacy top-level rope_theta / rope_scaling. */
function ropeTheta(cfg: Json, file: string): number {
  const params = (cfg.rope_parameters ?? cfg.rope_scaling) as Json | null | undefined;
  const field = cfg.rope_parameters !== undefined ? 'rope_parameters' : 'rope_scaling';
  if (params && typeof params === 'object') {
    const type = params.rope_type ?? params.type ?? 'default';
    if (type !== 'default') fail(file, `${field}.rope_type`, `is "${String(type)}"; only "default" RoPE is supported`);
    if (params.rope_theta !== undefined) return num(params, file, 'rope_theta', 10000);
  }
  return num(cfg, file, 'rope_theta', 10000);
}

function llama(cfg: Json, file: string, architecture: string): Omit<RuntimeConfig, 'eosTokenIds'> {
  const hiddenSize = int(cfg, file, 'hidden_size');
  const heads = int(cfg, file, 'num_attention_heads');
  const act = cfg.hidden_act ?? 'silu';
  if (act !== 'silu') fail(file, 'hidden_act', `is "${String(act)}"; the ${architecture} runtime supports "silu"`);
  if (cfg.use_sliding_window === true) fail(file, 'use_sliding_window', 'is true; sliding-window attention is not supported');
  // Qwen2 writes sliding_window but applies it only with use_sliding_window; Mistral applies it always.
  const window = architecture === 'MistralForCausalLM' && cfg.sliding_window != null ? int(cfg, file, 'sliding_window') : 0;
  return {
    family: 'llama',
    architecture,
    hiddenSize,
    intermediateSize: int(cfg, file, 'intermediate_size'),
    layers: int(cfg, file, 'num_hidden_layers'),
    heads,
    kvHeads: int(cfg, file, 'num_key_value_heads', heads),
    headDim: cfg.head_dim == null ? hiddenSize / heads : int(cfg, file, 'head_dim'),
    vocabSize: int(cfg, file, 'vocab_size'),
    maxPositions: int(cfg, file, 'max_position_embeddings', 2048),
    normEps: num(cfg, file, 'rms_norm_eps', 1e-6),
    ropeTheta: ropeTheta(cfg, file),
    tieWordEmbeddings: cfg.tie_word_embeddings === true,
    layerNormBefore: true,
    finalLayerNorm: true,
    wordEmbedProjDim: 0,
    slidingWindow: window,
  };
}

function opt(cfg: Json, file: string, architecture: string): Omit<RuntimeConfig, 'eosTokenIds'> {
  const hiddenSize = int(cfg, file, 'hidden_size');
  const heads = int(cfg, file, 'num_attention_heads');
  const act = cfg.activation_function ?? 'relu';
  if (act !== 'relu') fail(file, 'activation_function', `is "${String(act)}"; the OPT runtime supports "relu"`);
  if (cfg.enable_bias === false) fail(file, 'enable_bias', 'is false; the OPT runtime expects biased layers');
  if (cfg.layer_norm_elementwise_affine === false) fail(file, 'layer_norm_elementwise_affine', 'is false; not supported');
  if (hiddenSize % heads !== 0) fail(file, 'hidden_size', `(${hiddenSize}) must be a multiple of num_attention_heads (${heads})`);
  const before = cfg.do_layer_norm_before !== false;
  return {
    family: 'opt',
    architecture,
    hiddenSize,
    intermediateSize: int(cfg, file, 'ffn_dim'),
    layers: int(cfg, file, 'num_hidden_layers'),
    heads,
    kvHeads: heads,
    headDim: hiddenSize / heads,
    vocabSize: int(cfg, file, 'vocab_size'),
    maxPositions: int(cfg, file, 'max_position_embeddings'),
    normEps: 1e-5,
    ropeTheta: 0,
    tieWordEmbeddings: cfg.tie_word_embeddings !== false,
    layerNormBefore: before,
    finalLayerNorm: before && cfg._remove_final_layer_norm !== true,
    wordEmbedProjDim: int(cfg, file, 'word_embed_proj_dim', hiddenSize),
    slidingWindow: 0,
  };
}

/** Parses `<folder>/config.json` (+ generation_config.json for end-of-sequence ids). */
export function readRuntimeConfig(folder: string): RuntimeConfig {
  return readRuntimeConfigWithText(folder).config;
}

/** The runtime config and config.json's text, from one read (the quantize pipeline writes the text back). */
export function readRuntimeConfigWithText(folder: string): { config: RuntimeConfig; text: string } {
  const file = path.join(folder, 'config.json');
  if (!fs.existsSync(file)) throw new ModelConfigError(`${file}: not found; a model folder needs its config.json`);
  const text = fs.readFileSync(file, 'utf8');
  return { config: parseRuntimeConfig(parseJson(text, file), file, readGenerationConfig(folder)), text };
}

function readGenerationConfig(folder: string): Json {
  const file = path.join(folder, 'generation_config.json');
  return fs.existsSync(file) ? readJson(file) : {};
}

export function parseRuntimeConfig(cfg: Json, file: string, generation: Json = {}): RuntimeConfig {
  const architectures = cfg.architectures;
  const architecture = Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : undefined;
  if (!architecture) fail(file, 'architectures', 'is missing; the runtime needs it to pick the model code');
  const family = familyOf[architecture];
  if (!family) {
    fail(file, 'architectures', `names "${architecture}"; the runtime supports ${Object.keys(familyOf).join(', ')}`);
  }
  const base = family === 'llama' ? llama(cfg, file, architecture) : opt(cfg, file, architecture);
  const eos = [...new Set([...ids(cfg.eos_token_id), ...ids(generation.eos_token_id)])];
  return { ...base, eosTokenIds: eos };
}
