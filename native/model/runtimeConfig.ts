// Reads a model folder's config.json into the plain shape the engine runs. Everything the runtime cannot
// honour is an error naming the field, so a model never runs with a silently ignored setting.
import * as path from 'path';

import { gemmaConfig } from './gemmaConfig';
import { DecoderShape, Json, decoderShape, fail, int, num, readJsonObjectFile, readModelConfig } from './modelConfig';
import { CHECKPOINT_LAYOUTS } from './checkpointLayouts';
import { compressedTensorsScheme } from './compressedTensorsConfig';
import { GPTQ_CHECKPOINT_FORMATS, gptqCheckpointFormat } from './quantConfig';
import { MoeSettings, moeConfig } from './moeConfig';
import { RopeSettings, parseRope } from './ropeConfig';
import type { JsonObject } from './types';

export { ModelConfigError } from './modelConfig';
export type { MoeSettings } from './moeConfig';

export type ModelFamily = 'llama' | 'opt';

/** What the engine needs to know about a model; passed to the addon as is. */
export interface RuntimeConfig extends DecoderShape {
  family: ModelFamily;
  architecture: string;
  normEps: number;
  /** Llama family: the rotary embedding (ropeConfig.ts); OPT has learned positions instead. */
  rope?: RopeSettings;
  /** Phi-3: self_attn.qkv_proj (q, k, v rows stacked) and mlp.gate_up_proj (gate rows, then up) as one linear each. */
  fusedProjections?: boolean;
  /** Qwen3, Gemma 3: an RMSNorm over each head of q and k (self_attn.q_norm / k_norm) before RoPE. */
  qkNorm: boolean;
  /** Gemma 3: the sliding layers' own RoPE (the full-attention layers use `rope`). */
  slidingRope?: RopeSettings;
  /** Gemma 2 / 3 (gemmaConfig.ts): RMSNorm × (1 + w), norms after attention and MLP as well, GeGLU with
   *  gelu_pytorch_tanh, embeddings × √hidden, query_pre_attn_scalar^-0.5 scaling, tanh soft-capping. */
  normOffset?: boolean;
  sandwichNorms?: boolean;
  geluTanh?: boolean;
  scaleEmbeddings?: boolean;
  attentionScale?: number;
  attentionSoftcap?: number;
  finalSoftcap?: number;
  tieWordEmbeddings: boolean;
  /** A GPTQ checkpoint in GPTQModel's format v2: qzeros hold the zero points as is (v1: zero − 1). */
  gptqV2Zeros: boolean;
  /** Mixtral, Qwen2-MoE, Qwen3-MoE (moeConfig.ts): routed experts in place of (some) dense MLPs. */
  moe?: MoeSettings;
  layerNormBefore: boolean;
  finalLayerNorm: boolean;
  wordEmbedProjDim: number;
  /** Each layer's sliding window (a token sees itself and window − 1 earlier positions); 0 = full attention. */
  layerWindows: number[];
  /** Token ids that end generation (config.json and generation_config.json `eos_token_id`). */
  eosTokenIds: number[];
}

const familyOf: Record<string, ModelFamily> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'llama',
  Qwen3ForCausalLM: 'llama',
  Phi3ForCausalLM: 'llama',
  MixtralForCausalLM: 'llama',
  Qwen2MoeForCausalLM: 'llama',
  Qwen3MoeForCausalLM: 'llama',
  Gemma2ForCausalLM: 'llama',
  Gemma3ForCausalLM: 'llama',
  OPTForCausalLM: 'opt',
};

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

// Which layers slide, as transformers 5.23 decides: Mistral, Mixtral and Phi-3 every layer when sliding_window is set;
// Qwen3-MoE every layer with use_sliding_window; Qwen2, Qwen3 and Qwen2-MoE only with use_sliding_window, on the layers
// `layer_types` names (default: Qwen2/Qwen3 from max_window_layers on, Qwen2-MoE the even layers below it).
function layerWindows(cfg: Json, file: string, architecture: string, layers: number): number[] {
  if (architecture === 'MistralForCausalLM' || architecture === 'Phi3ForCausalLM' || architecture === 'MixtralForCausalLM') {
    return Array<number>(layers).fill(cfg.sliding_window == null ? 0 : int(cfg, file, 'sliding_window'));
  }
  const window = cfg.use_sliding_window === true && cfg.sliding_window != null ? int(cfg, file, 'sliding_window') : 0;
  if (architecture === 'Qwen3MoeForCausalLM') return Array<number>(layers).fill(window);
  if (!['Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'Qwen2MoeForCausalLM'].includes(architecture)) return Array<number>(layers).fill(0);
  const types = cfg.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== layers) fail(file, 'layer_types', `lists ${types.length} layers; num_hidden_layers is ${layers}`);
    return types.map((t, i) => {
      if (t !== 'sliding_attention' && t !== 'full_attention')
        fail(file, `layer_types[${i}]`, `is ${JSON.stringify(t)}; expected "full_attention" or "sliding_attention"`);
      return t === 'sliding_attention' ? window : 0;
    });
  }
  const first = cfg.max_window_layers ?? 28;
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 0)
    fail(file, 'max_window_layers', `must be a non-negative integer, got ${JSON.stringify(first)}`);
  if (architecture === 'Qwen2MoeForCausalLM')
    return Array.from({ length: layers }, (_, i) => ((i + 1) % 2 === 1 && i < first ? window : 0));
  return Array.from({ length: layers }, (_, i) => (i >= first ? window : 0));
}

// transformers 5.23's Llama, Mistral, Qwen2 and Qwen3 rotate the whole head (their apply_rotary_pos_emb has no
// pass-through part), so a partial_rotary_factor below 1 fails there: refuse it here with the reason.
function wholeHeadRope(cfg: Json, file: string, headDim: number, architecture: string): RopeSettings {
  const settings = parseRope(cfg, file, headDim);
  if (settings.rotaryDim !== headDim) {
    fail(
      file,
      'partial_rotary_factor',
      `rotates ${settings.rotaryDim} of ${headDim} head dimensions; ${architecture} rotates the whole head`,
    );
  }
  return settings;
}

// Phi-3 rotates the first partial_rotary_factor of each head (its apply_rotary_pos_emb passes the rest through), and
// Phi3Config reads the older "su" and "yarn" scaling types as "longrope".
function phi3RopeNames(cfg: Json): Json {
  const key = cfg.rope_scaling ? 'rope_scaling' : 'rope_parameters';
  const p = cfg[key] as Json | null | undefined;
  const type = p?.rope_type ?? p?.type;
  if (!p || (type !== 'su' && type !== 'yarn')) return cfg;
  return { ...cfg, [key]: { ...p, rope_type: 'longrope', type: 'longrope' } };
}

function llama(cfg: Json, file: string, architecture: string): Omit<RuntimeConfig, 'eosTokenIds' | 'gptqV2Zeros'> {
  const act = cfg.hidden_act ?? 'silu';
  if (act !== 'silu') fail(file, 'hidden_act', `is "${String(act)}"; the ${architecture} runtime supports "silu"`);
  const shape = decoderShape(cfg, file, { maxPositions: 2048 });
  const { headDim, layers } = shape;
  return {
    family: 'llama',
    architecture,
    ...shape,
    normEps: num(cfg, file, 'rms_norm_eps', 1e-6),
    rope:
      architecture === 'Phi3ForCausalLM' ? parseRope(phi3RopeNames(cfg), file, headDim) : wholeHeadRope(cfg, file, headDim, architecture),
    fusedProjections: architecture === 'Phi3ForCausalLM',
    qkNorm: architecture === 'Qwen3ForCausalLM' || architecture === 'Qwen3MoeForCausalLM',
    tieWordEmbeddings: cfg.tie_word_embeddings === true,
    moe: moeConfig(cfg, file, architecture, layers),
    layerNormBefore: true,
    finalLayerNorm: true,
    wordEmbedProjDim: 0,
    layerWindows: layerWindows(cfg, file, architecture, layers),
  };
}

function opt(cfg: Json, file: string, architecture: string): Omit<RuntimeConfig, 'eosTokenIds' | 'gptqV2Zeros'> {
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
    qkNorm: false,
    tieWordEmbeddings: cfg.tie_word_embeddings !== false,
    layerNormBefore: before,
    finalLayerNorm: before && cfg._remove_final_layer_norm !== true,
    wordEmbedProjDim: int(cfg, file, 'word_embed_proj_dim', hiddenSize),
    layerWindows: [],
  };
}

/** Parses `<folder>/config.json` (+ generation_config.json for end-of-sequence ids). */
export function readRuntimeConfig(folder: string): RuntimeConfig {
  return readRuntimeConfigWithText(folder).config;
}

/** The runtime config and config.json's text, from one read (the quantize pipeline writes the text back). */
export function readRuntimeConfigWithText(folder: string): { config: RuntimeConfig; text: string } {
  const { config, text, file } = readModelConfig(folder);
  const generation = readJsonObjectFile(path.join(folder, 'generation_config.json'))?.config ?? {};
  return { config: parseRuntimeConfig(config, file, generation), text };
}

export function parseRuntimeConfig(cfg: Json, file: string, generation: Json = {}): RuntimeConfig {
  const architectures = cfg.architectures;
  const architecture = Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : undefined;
  if (!architecture) fail(file, 'architectures', 'is missing; the runtime needs it to pick the model code');
  const family = familyOf[architecture];
  if (!family) {
    fail(file, 'architectures', `names "${architecture}"; the runtime supports ${Object.keys(familyOf).join(', ')}`);
  }
  const base =
    family === 'opt'
      ? opt(cfg, file, architecture)
      : architecture.startsWith('Gemma')
        ? gemmaConfig(cfg, file, architecture)
        : llama(cfg, file, architecture);
  const eos = [...new Set([...ids(cfg.eos_token_id), ...ids(generation.eos_token_id)])];
  return { ...base, gptqV2Zeros: gptqV2Zeros(cfg, file), eosTokenIds: eos };
}

/** The quant_method values of the layouts the runtime loads (model/checkpointLayouts.ts). */
const LOADED_METHODS = [...new Set(CHECKPOINT_LAYOUTS.map((l) => l.quantMethod))];

/** Whether config.json's quantization_config declares a GPTQ checkpoint in format v2. A method or format
 *  whose tensors the runtime cannot read is an error naming it, rather than a missing-tensor error later or
 *  a silently misread zero point. */
function gptqV2Zeros(cfg: Json, file: string): boolean {
  const qc = cfg.quantization_config;
  if (typeof qc !== 'object' || qc === null || Array.isArray(qc)) return false;
  const q = qc as JsonObject;
  if (typeof q.quant_method !== 'string') return false;
  const method = q.quant_method.toLowerCase();
  if (!LOADED_METHODS.includes(method)) {
    fail(file, 'quantization_config.quant_method', `is "${q.quant_method}"; the runtime loads ${LOADED_METHODS.join(', ')} checkpoints`);
  }
  if (method === 'compressed-tensors') {
    const scheme = compressedTensorsScheme(q);
    if (!scheme.ok) fail(file, `quantization_config.${scheme.refusal.field}`, scheme.refusal.message);
  }
  if (method !== 'gptq') return false;
  const format = gptqCheckpointFormat(q);
  if (!(GPTQ_CHECKPOINT_FORMATS as readonly string[]).includes(format)) {
    fail(file, 'quantization_config.checkpoint_format', `is "${format}"; the runtime reads ${GPTQ_CHECKPOINT_FORMATS.join(' and ')}`);
  }
  return format === 'gptq_v2';
}
