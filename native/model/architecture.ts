// The decoder shapes the estimate needs, read from config.json. Llama family (Llama, Mistral, Qwen2)
// and OPT name them differently; a missing required field is an error value naming the key.
import { COMPUTE_DTYPE_BYTES } from './dtypes';
import type { Result } from './errors';
import { fail, ok } from './errors';
import { ModelConfigError, firstPositiveInt, objectAt } from './modelConfig';
import { parseRuntimeConfig } from './runtimeConfig';
import type { JsonObject } from './types';

export interface Architecture {
  modelType: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  /** The dtype activations and the KV cache are held in (config `dtype` / `torch_dtype`, default float16). */
  computeDtype: string;
  computeBytes: number;
  /** max_position_embeddings (n_positions for GPT-2 style configs), when the config gives one. */
  maxPositions: number | undefined;
  /** Each layer's sliding window, 0 for full attention (runtimeConfig.ts decides, as transformers 5.23 does). */
  layerWindows: number[];
}

/** The causal-LM class of a language model nested as text_config, which names no architecture of its own. */
const TEXT_CONFIG_ARCHITECTURES: Readonly<Record<string, string>> = { gemma3_text: 'Gemma3ForCausalLM' };

/** The windows the runtime's parser reads; a config it cannot parse counts every layer as full (an upper bound). */
function layerWindowsOf(c: JsonObject, layers: number): number[] {
  const nested =
    c['architectures'] === undefined && typeof c['model_type'] === 'string' ? TEXT_CONFIG_ARCHITECTURES[c['model_type']] : undefined;
  try {
    const windows = parseRuntimeConfig(nested ? { ...c, architectures: [nested] } : c, 'config.json').layerWindows;
    if (windows.length === layers) return windows;
  } catch (error) {
    if (!(error instanceof ModelConfigError)) throw error;
  }
  return Array<number>(layers).fill(0);
}

/** config.json keys per model family: [field, key] with the first present key winning. */
const FIELD_KEYS: Readonly<Record<'layers' | 'hidden' | 'heads' | 'intermediate' | 'vocab', readonly string[]>> = {
  layers: ['num_hidden_layers', 'n_layer', 'num_layers'],
  hidden: ['hidden_size', 'n_embd', 'd_model'],
  heads: ['num_attention_heads', 'n_head'],
  intermediate: ['intermediate_size', 'ffn_dim', 'n_inner'],
  vocab: ['vocab_size'],
};

export function architectureOf(config: JsonObject, where: string, computeDtype?: string): Result<Architecture> {
  // Multimodal configs nest the language model's shapes under text_config.
  const text = firstPositiveInt(config, FIELD_KEYS.layers) === undefined ? objectAt(config, 'text_config') : undefined;
  const c = (text ?? config) as JsonObject;
  const fields: Partial<Record<keyof typeof FIELD_KEYS, number>> = {};
  for (const [field, keys] of Object.entries(FIELD_KEYS) as [keyof typeof FIELD_KEYS, readonly string[]][]) {
    const value = firstPositiveInt(c, keys);
    if (value === undefined)
      return fail(
        'unsupported',
        `config.json has no positive integer ${keys.join(' / ')}`,
        where,
        'only decoder-only transformer configs can be estimated',
      );
    fields[field] = value;
  }
  const { layers, hidden, heads, intermediate, vocab } = fields as Record<keyof typeof FIELD_KEYS, number>;
  const kvHeads = firstPositiveInt(c, ['num_key_value_heads']) ?? heads;
  const headDim = firstPositiveInt(c, ['head_dim']) ?? Math.floor(hidden / heads);
  const stored = [c['dtype'], c['torch_dtype'], config['dtype'], config['torch_dtype']].find((d): d is string => typeof d === 'string');
  const dtype = computeDtype ?? stored ?? 'float16';
  const computeBytes = COMPUTE_DTYPE_BYTES[dtype];
  if (computeBytes === undefined)
    return fail('unsupported', `unknown compute dtype ${JSON.stringify(dtype)}`, where, 'use float16, bfloat16 or float32');
  const modelType = typeof c['model_type'] === 'string' ? c['model_type'] : 'unknown';
  const maxPositions = firstPositiveInt(c, ['max_position_embeddings', 'n_positions']);
  const layerWindows = layerWindowsOf(c, layers);
  return ok({
    modelType,
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    intermediate,
    vocab,
    computeDtype: dtype,
    computeBytes,
    maxPositions,
    layerWindows,
  });
}
