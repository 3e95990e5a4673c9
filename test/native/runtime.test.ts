import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { openModel } from '../../native/lib/runtime';
import { parseRuntimeConfig, readRuntimeConfig } from '../../native/model';
import { goldenModels, goldenPrompts, maxAbsDiff, tinyLlamaDir } from './runtime-fixtures';
import { atSimdLevel, simdLevels } from './simdLevels';

// Whole models at every SIMD level this CPU runs: each level's kernels, composed, give transformers' logits.
for (const level of simdLevels)
  for (const fixture of goldenModels) {
    test(`logits match transformers within 1e-4: ${fixture.name}, at ${level}`, () =>
      atSimdLevel(level, async () => {
        const model = openModel(fixture.dir);
        const prompts = goldenPrompts(fixture.golden);
        assert.equal(prompts.length, 4);
        for (const { ids, logits } of prompts) {
          const ours = await model.logits(ids);
          assert.equal(ours.length, ids.length * model.config.vocabSize);
          const err = maxAbsDiff(ours, logits);
          assert.ok(err < 1e-4, `prompt [${ids.slice(0, 6).join(', ')}…]: max abs error ${err}`);
        }
      }));
  }

const windowed = path.join(path.dirname(tinyLlamaDir), '..', 'test', 'fixtures', 'mistral-window-random');
const chains = [
  ['tiny-llama', tinyLlamaDir, 6],
  ['mistral-window-random, past its window of 8', windowed, 14],
] as const;
for (const [name, dir, maxTokens] of chains)
  test(`decoding one token at a time through the KV cache gives the prefill logits (greedy chain): ${name}`, async () => {
    const model = openModel(dir);
    const prompt = [146, 230, 89];
    const result = await model.generateIds(prompt, { maxTokens, stopIds: [] });
    assert.equal(result.tokens.length, maxTokens);
    const vocab = model.config.vocabSize;
    const full = await model.logits([...prompt, ...result.tokens]);
    for (let i = 0; i < result.tokens.length; i++) {
      const row = full.subarray((prompt.length - 1 + i) * vocab, (prompt.length + i) * vocab);
      const argmax = row.indexOf(Math.max(...row));
      assert.equal(result.tokens[i], argmax, `token ${i}`);
    }
  });

test('config: rope_parameters and legacy rope_theta, head_dim, GQA, eos ids', () => {
  const tiny = readRuntimeConfig(tinyLlamaDir);
  assert.deepEqual(
    {
      family: tiny.family,
      heads: tiny.heads,
      kvHeads: tiny.kvHeads,
      headDim: tiny.headDim,
      ropeTheta: tiny.rope?.theta,
      eos: tiny.eosTokenIds,
      tied: tiny.tieWordEmbeddings,
    },
    { family: 'llama', heads: 8, kvHeads: 4, headDim: 32, ropeTheta: 10000, eos: [0], tied: false },
  );
  const mistral = {
    architectures: ['MistralForCausalLM'],
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 8,
    vocab_size: 10,
  };
  const legacy = parseRuntimeConfig({ ...mistral, rope_theta: 500000 }, 'config.json');
  assert.equal(legacy.rope?.theta, 500000);
  assert.deepEqual([legacy.rope?.type, legacy.rope?.rotaryDim], ['default', 8]);
  assert.deepEqual(legacy.layerWindows, [0, 0]);
  const windowed = parseRuntimeConfig({ ...mistral, sliding_window: 4096 }, 'config.json');
  assert.deepEqual(windowed.layerWindows, [4096, 4096]);
  // Qwen2/Qwen3: only with use_sliding_window, from max_window_layers on, or as layer_types says.
  const qwen = {
    architectures: ['Qwen2ForCausalLM'],
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    vocab_size: 10,
    sliding_window: 32,
  };
  assert.deepEqual(parseRuntimeConfig(qwen, 'config.json').layerWindows, [0, 0, 0, 0]);
  assert.deepEqual(
    parseRuntimeConfig({ ...qwen, use_sliding_window: true, max_window_layers: 2 }, 'config.json').layerWindows,
    [0, 0, 32, 32],
  );
  assert.deepEqual(
    parseRuntimeConfig(
      { ...qwen, use_sliding_window: true, layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'] },
      'config.json',
    ).layerWindows,
    [32, 0, 32, 0],
  );
  assert.throws(
    () => parseRuntimeConfig({ ...qwen, layer_types: ['full_attention'] }, 'config.json'),
    /`layer_types` lists 1 layers; num_hidden_layers is 4/,
  );
  assert.equal(legacy.kvHeads, 8);
  assert.equal(legacy.headDim, 8);
});

test("config: a GPTQ checkpoint_format (else GPTQModel's format key) picks how qzeros are read; other formats and methods are errors", () => {
  const base = {
    architectures: ['LlamaForCausalLM'],
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 10,
  };
  const v2 = (qc: Record<string, unknown>): boolean =>
    parseRuntimeConfig({ ...base, quantization_config: qc }, 'm/config.json').gptqV2Zeros;
  assert.deepEqual(
    [
      v2({ quant_method: 'gptq' }),
      v2({ quant_method: 'gptq', checkpoint_format: 'gptq' }),
      v2({ quant_method: 'gptq', checkpoint_format: 'gptq_v2' }),
      v2({ quant_method: 'gptq', format: 'gptq_v2' }),
      v2({ quant_method: 'awq', format: 'gemm' }),
      parseRuntimeConfig(base, 'm/config.json').gptqV2Zeros,
    ],
    [false, false, true, true, false, false],
  );
  assert.throws(
    () => v2({ quant_method: 'fp8' }),
    /`quantization_config.quant_method` is "fp8"; the runtime loads gptq, awq, compressed-tensors, bitsandbytes checkpoints/,
  );
  assert.throws(
    () => v2({ quant_method: 'gptq', checkpoint_format: 'marlin' }),
    /m\/config.json: `quantization_config.checkpoint_format` is "marlin"; the runtime reads gptq and gptq_v2/,
  );
  // Where the two keys disagree checkpoint_format wins, as in transformers and GPTQModel (and gptq/format-conflict says).
  assert.deepEqual(
    [
      v2({ quant_method: 'gptq', checkpoint_format: 'gptq', format: 'gptq_v2' }),
      v2({ quant_method: 'gptq', checkpoint_format: 'GPTQ_V2', format: 'gptq' }),
    ],
    [false, true],
  );
});

test('config: an unsupported architecture, RoPE type or missing RoPE field is an error naming the field', () => {
  const base = { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 10 };
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['GPT2LMHeadModel'] }, 'm/config.json'),
    /m\/config.json: `architectures` names "GPT2LMHeadModel"; the runtime supports LlamaForCausalLM/,
  );
  assert.throws(
    () =>
      parseRuntimeConfig(
        { ...base, architectures: ['LlamaForCausalLM'], rope_parameters: { rope_type: 'mrope', rope_theta: 5e5 } },
        'config.json',
      ),
    /`rope_parameters.rope_type` is "mrope"; the runtime supports default, linear, dynamic, yarn, longrope, llama3/,
  );
  assert.throws(
    () =>
      parseRuntimeConfig(
        { ...base, architectures: ['LlamaForCausalLM'], rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 8 } },
        'config.json',
      ),
    /`rope_parameters.low_freq_factor` must be a positive number, got undefined/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['LlamaForCausalLM'], rope_scaling: { type: 'linear' } }, 'config.json'),
    /`rope_scaling.factor` must be a positive number/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['DbrxForCausalLM'] }, 'config.json'),
    /`architectures` names "DbrxForCausalLM"/,
  );
  assert.throws(
    () =>
      parseRuntimeConfig(
        { ...base, architectures: ['LlamaForCausalLM'], rope_scaling: { type: 'longrope', short_factor: [1, 1], long_factor: [1] } },
        'config.json',
      ),
    /`rope_scaling.short_factor` must list 8 positive numbers/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['LlamaForCausalLM'], partial_rotary_factor: 0.1 }, 'config.json'),
    /`partial_rotary_factor` \(0.1\) must leave an even rotary dimension of at most head_dim 16, got 1/,
  );
  assert.throws(
    () =>
      parseRuntimeConfig(
        { ...base, architectures: ['OPTForCausalLM'], ffn_dim: 8, max_position_embeddings: 8, activation_function: 'gelu' },
        'config.json',
      ),
    /`activation_function` is "gelu"/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['LlamaForCausalLM'], num_hidden_layers: 0 }, 'config.json'),
    /`num_hidden_layers` must be a positive integer, got 0/,
  );
});

test('weights that do not fit config.json are an error naming the tensor', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-runtime-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = JSON.parse(fs.readFileSync(path.join(tinyLlamaDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 512 }));
  fs.copyFileSync(path.join(tinyLlamaDir, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  assert.throws(() => openModel(dir), /model\.layers\.0\.mlp\.gate_proj\.weight has shape \[768, 256\], config\.json implies \[512, 256\]/);
});

test("a sequence longer than OPT's learned positions is refused, naming the limit", async () => {
  const model = openModel(goldenModels.find((m) => m.name === 'opt-random')!.dir);
  await assert.rejects(
    model.logits(new Array(129).fill(5)),
    /OPTForCausalLM runs at most 128 tokens \(its learned positions \(max_position_embeddings\)\); the sequence needs 129/,
  );
  const r = await model.generateIds(new Array(120).fill(5), { maxTokens: 20, stopIds: [] });
  assert.equal(r.stopReason, 'contextFull');
  assert.equal(r.tokens.length, 9);
});

test('token ids outside the vocabulary reject with the id and its index', async () => {
  const model = openModel(tinyLlamaDir);
  await assert.rejects(model.logits([5, 4096]), /token id 4096 at index 1 is outside the vocabulary \(vocab_size 4096\)/);
});

test('config: Gemma 3 in its legacy form (google/gemma-3-1b-it) and Gemma 2 with its class defaults', () => {
  const gemma3 = parseRuntimeConfig(
    {
      architectures: ['Gemma3ForCausalLM'],
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      head_dim: 256,
      hidden_activation: 'gelu_pytorch_tanh',
      hidden_size: 1152,
      intermediate_size: 6912,
      max_position_embeddings: 32768,
      model_type: 'gemma3_text',
      num_attention_heads: 4,
      num_hidden_layers: 26,
      num_key_value_heads: 1,
      query_pre_attn_scalar: 256,
      rms_norm_eps: 1e-6,
      rope_local_base_freq: 10000,
      rope_scaling: null,
      rope_theta: 1000000,
      sliding_window: 512,
      sliding_window_pattern: 6,
      vocab_size: 262144,
      eos_token_id: [1, 106],
    },
    'config.json',
  );
  assert.deepEqual(
    gemma3.layerWindows,
    Array.from({ length: 26 }, (_, i) => ((i + 1) % 6 ? 512 : 0)),
  );
  assert.deepEqual(
    [gemma3.rope?.type, gemma3.rope?.theta, gemma3.slidingRope?.type, gemma3.slidingRope?.theta],
    ['default', 1e6, 'default', 1e4],
  );
  assert.deepEqual(
    [gemma3.attentionScale, gemma3.attentionSoftcap, gemma3.finalSoftcap, gemma3.qkNorm, gemma3.tieWordEmbeddings],
    [1 / 16, 0, 0, true, true],
  );
  assert.deepEqual([gemma3.normOffset, gemma3.sandwichNorms, gemma3.geluTanh, gemma3.scaleEmbeddings], [true, true, true, true]);
  // Gemma 3 27B scales the global RoPE linearly; the local one stays plain.
  const small = { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 10 };
  const scaled = parseRuntimeConfig(
    { ...small, architectures: ['Gemma3ForCausalLM'], head_dim: 16, rope_scaling: { rope_type: 'linear', factor: 8 } },
    'config.json',
  );
  assert.deepEqual([scaled.rope?.type, scaled.rope?.factor, scaled.slidingRope?.type], ['linear', 8, 'default']);

  const gemma2 = parseRuntimeConfig(
    {
      architectures: ['Gemma2ForCausalLM'],
      hidden_size: 2304,
      intermediate_size: 9216,
      num_hidden_layers: 4,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      vocab_size: 256000,
    },
    'config.json',
  );
  assert.deepEqual(
    [gemma2.headDim, gemma2.attentionSoftcap, gemma2.finalSoftcap, gemma2.qkNorm, gemma2.slidingRope],
    [256, 50, 30, false, undefined],
  );
  assert.deepEqual(gemma2.layerWindows, [4096, 0, 4096, 0]);
  assert.throws(
    () => parseRuntimeConfig({ ...small, architectures: ['Gemma2ForCausalLM'], hidden_activation: 'gelu' }, 'config.json'),
    /`hidden_activation` is "gelu"; Gemma2ForCausalLM runs "gelu_pytorch_tanh"/,
  );
});

test('config: Phi-3 fuses its projections, rotates a partial head, and reads "su" scaling as longrope', () => {
  const phi = {
    architectures: ['Phi3ForCausalLM'],
    hidden_size: 96,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    vocab_size: 10,
    max_position_embeddings: 64,
    original_max_position_embeddings: 16,
    partial_rotary_factor: 0.75,
  };
  const su = parseRuntimeConfig(
    { ...phi, rope_scaling: { type: 'su', short_factor: [1, 1, 1, 1, 1, 1], long_factor: [2, 2, 2, 2, 2, 2] } },
    'config.json',
  );
  assert.deepEqual([su.fusedProjections, su.rope?.type, su.rope?.rotaryDim, su.rope?.originalMaxPositions], [true, 'longrope', 12, 16]);
  assert.deepEqual(parseRuntimeConfig({ ...phi, sliding_window: 2047 }, 'config.json').layerWindows, [2047, 2047]);
  // The Llama family rotates whole heads: the same factor there is refused, naming it.
  assert.throws(
    () => parseRuntimeConfig({ ...phi, architectures: ['LlamaForCausalLM'] }, 'config.json'),
    /`partial_rotary_factor` rotates 12 of 16 head dimensions; LlamaForCausalLM rotates the whole head/,
  );
});

test('config: MoE settings as transformers 5.23 reads them, unsupported values named', () => {
  const base = { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 4, num_attention_heads: 4, vocab_size: 10 };
  const mixtral = parseRuntimeConfig({ ...base, architectures: ['MixtralForCausalLM'] }, 'config.json').moe;
  assert.deepEqual(mixtral, {
    experts: 8,
    topK: 2,
    expertIntermediateSize: 128,
    normTopkProb: true,
    sharedExpertIntermediateSize: 0,
    mixtralNames: true,
    sparseLayers: [true, true, true, true],
  });
  const qwen2 = { ...base, architectures: ['Qwen2MoeForCausalLM'], moe_intermediate_size: 32, decoder_sparse_step: 2 };
  assert.deepEqual(parseRuntimeConfig(qwen2, 'config.json').moe, {
    experts: 60,
    topK: 4,
    expertIntermediateSize: 32,
    normTopkProb: false,
    sharedExpertIntermediateSize: 5632,
    mixtralNames: false,
    sparseLayers: [false, true, false, true],
  });
  // Qwen2-MoE's default layer_types slide the even layers below max_window_layers; Qwen3-MoE slides every layer.
  assert.deepEqual(
    parseRuntimeConfig({ ...qwen2, use_sliding_window: true, sliding_window: 8, max_window_layers: 3 }, 'config.json').layerWindows,
    [8, 0, 8, 0],
  );
  const qwen3 = { ...base, architectures: ['Qwen3MoeForCausalLM'], num_experts: 16, mlp_only_layers: [0, 2] };
  const parsed = parseRuntimeConfig({ ...qwen3, use_sliding_window: true, sliding_window: 8 }, 'config.json');
  assert.deepEqual(
    [parsed.qkNorm, parsed.moe?.experts, parsed.moe?.topK, parsed.moe?.sparseLayers, parsed.layerWindows],
    [true, 16, 8, [false, true, false, true], [8, 8, 8, 8]],
  );
  // 5.23 saves Qwen3-MoE's and Mixtral's count as num_local_experts (attribute_map), which wins over num_experts.
  assert.equal(parseRuntimeConfig({ ...qwen3, num_local_experts: 4, num_experts_per_tok: 2 }, 'config.json').moe?.experts, 4);
  assert.equal(parseRuntimeConfig({ ...base, architectures: ['LlamaForCausalLM'] }, 'config.json').moe, undefined);
  assert.throws(
    () => parseRuntimeConfig({ ...qwen3, num_experts_per_tok: 17 }, 'm/config.json'),
    /m\/config.json: `num_experts_per_tok` \(17\) exceeds the 16 experts/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...qwen3, decoder_sparse_step: 0 }, 'config.json'),
    /`decoder_sparse_step` must be a positive integer, got 0/,
  );
  assert.throws(
    () => parseRuntimeConfig({ ...qwen3, mlp_only_layers: 'all' }, 'config.json'),
    /`mlp_only_layers` must be a list of layer indices/,
  );
  assert.throws(() => parseRuntimeConfig({ ...qwen3, norm_topk_prob: 1 }, 'config.json'), /`norm_topk_prob` must be true or false, got 1/);
  assert.throws(
    () => parseRuntimeConfig({ ...base, architectures: ['MixtralForCausalLM'], hidden_act: 'gelu' }, 'config.json'),
    /`hidden_act` is "gelu"; the MixtralForCausalLM runtime supports "silu"/,
  );
});
