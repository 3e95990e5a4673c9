// The real shapes test/tools/random-llama.mjs writes random-weight models of: each from its checkpoint's real
// config.json, with only what the random model needs changed (named per spec), and the tensors as the Hub
// checkpoint names and shapes them (test/unit/tools/randomShapes.test.ts holds them to the header-only copies).
// Every copy: weights stored fp16 (dtype float16, as the 349M model), bos/eos the demo tokenizer's id 0.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bigModels = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'big-models');

/** meta-llama/Llama-3.2-1B config.json on the Hub (the source of test/fixtures/llama3.2-random). */
const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.45.0.dev0',
  use_cache: true,
  vocab_size: 128256,
};

/** Qwen/Qwen3-0.6B config.json on the Hub (the source of test/fixtures/qwen3-random). */
const QWEN3_0_6B = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const bigModelConfig = (name) => JSON.parse(readFileSync(join(bigModels, name, 'config.json'), 'utf8'));

/** name: the cache folder; layers: the decoder layers kept (undefined: all of them). */
export const REAL_SHAPES = {
  'llama-3.2-1b': { name: 'random-llama-3.2-1b', source: 'meta-llama/Llama-3.2-1B', seed: 20261203, config: LLAMA_3_2_1B },
  'qwen3-0.6b': { name: 'random-qwen3-0.6b', source: 'Qwen/Qwen3-0.6B', seed: 20261204, config: QWEN3_0_6B },
  // 128 experts of width 768, top-8, hidden 2048 as the real model; 2 of its 48 layers (each holds 604M expert weights).
  'qwen3-30b-a3b-2l': {
    name: 'random-qwen3-30b-a3b-2-layers',
    source: 'Qwen/Qwen3-30B-A3B (test/fixtures/big-models/qwen3-30b-a3b/config.json)',
    seed: 20261205,
    layers: 2,
    config: bigModelConfig('qwen3-30b-a3b'),
  },
};

/** The config.json written beside the random weights. */
export function realConfigJson(spec) {
  const { torch_dtype: _stored, ...config } = spec.config;
  return {
    ...config,
    ...(spec.layers === undefined ? {} : { num_hidden_layers: spec.layers }),
    dtype: 'float16',
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

const isMoeLayer = (c, layer) =>
  (c.num_experts ?? 0) > 0 && !(c.mlp_only_layers ?? []).includes(layer) && (layer + 1) % (c.decoder_sparse_step ?? 1) === 0;

/** [name, shape, kind] in checkpoint order; kind 'ones' for norms, 'random' for everything else. */
export function realTensorList(spec) {
  const c = realConfigJson(spec);
  const hidden = c.hidden_size;
  const headDim = c.head_dim ?? hidden / c.num_attention_heads;
  const qWidth = c.num_attention_heads * headDim;
  const kvWidth = c.num_key_value_heads * headDim;
  const headNorms = c.model_type === 'qwen3' || c.model_type === 'qwen3_moe';
  const mlp = (p, inter) => [
    [`${p}.gate_proj.weight`, [inter, hidden], 'random'],
    [`${p}.up_proj.weight`, [inter, hidden], 'random'],
    [`${p}.down_proj.weight`, [hidden, inter], 'random'],
  ];
  const list = [['model.embed_tokens.weight', [c.vocab_size, hidden], 'random']];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    list.push(
      [`${p}.input_layernorm.weight`, [hidden], 'ones'],
      [`${p}.post_attention_layernorm.weight`, [hidden], 'ones'],
      [`${p}.self_attn.q_proj.weight`, [qWidth, hidden], 'random'],
      [`${p}.self_attn.k_proj.weight`, [kvWidth, hidden], 'random'],
      [`${p}.self_attn.v_proj.weight`, [kvWidth, hidden], 'random'],
      [`${p}.self_attn.o_proj.weight`, [hidden, qWidth], 'random'],
    );
    if (headNorms) list.push([`${p}.self_attn.q_norm.weight`, [headDim], 'ones'], [`${p}.self_attn.k_norm.weight`, [headDim], 'ones']);
    if (isMoeLayer(c, l)) {
      list.push([`${p}.mlp.gate.weight`, [c.num_experts, hidden], 'random']);
      for (let e = 0; e < c.num_experts; e++) list.push(...mlp(`${p}.mlp.experts.${e}`, c.moe_intermediate_size));
    } else list.push(...mlp(`${p}.mlp`, c.intermediate_size));
  }
  list.push(['model.norm.weight', [hidden], 'ones']);
  if (!c.tie_word_embeddings) list.push(['lm_head.weight', [c.vocab_size, hidden], 'random']);
  return list;
}
