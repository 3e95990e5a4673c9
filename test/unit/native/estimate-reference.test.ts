// The estimate against transformers' measured GPU memory (torch max_memory_allocated, fp16, H100) for
// random-weight Llamas, forward over a 512-token prompt at batch 1 and 16. The model shapes are the ones
// test/fixtures/tools/measure_gpu_memory.py built; no figure of the estimate is fitted to these numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { estimateMemory } from '../../../native/model';
import type { ResolvedModel, TensorMeta } from '../../../native/model';

const repo = join(__dirname, '..', '..', '..', '..');

interface Run {
  model: string;
  attn: 'sdpa' | 'eager';
  batch: number;
  prompt: number;
  scenario: string;
  weights_bytes: number;
  peak_allocated: number;
}
const reference = JSON.parse(
  readFileSync(join(repo, 'test', 'fixtures', 'reference-measurements', 'gpu-memory-transformers-h100.json'), 'utf8'),
) as { runs: Run[] };

/** LlamaConfig(**shape) as the measuring script made them (untied embeddings, fp16). */
const SHAPES: Record<string, { hidden: number; inter: number; layers: number; heads: number; kvHeads: number; vocab: number }> = {
  'llama-1.1b': { hidden: 2048, inter: 5632, layers: 22, heads: 32, kvHeads: 4, vocab: 32000 },
  'llama-2-7b': { hidden: 4096, inter: 11008, layers: 32, heads: 32, kvHeads: 32, vocab: 32000 },
};

function llama(name: string): ResolvedModel {
  const s = SHAPES[name]!;
  const headDim = s.hidden / s.heads;
  const tensors: TensorMeta[] = [];
  const add = (tensor: string, shape: number[]): void =>
    void tensors.push({ name: tensor, dtype: 'F16', shape, bytes: shape.reduce((a, d) => a * d, 2), file: 'model.safetensors' });
  add('model.embed_tokens.weight', [s.vocab, s.hidden]);
  for (let i = 0; i < s.layers; i++) {
    const p = `model.layers.${i}.`;
    add(`${p}self_attn.q_proj.weight`, [s.heads * headDim, s.hidden]);
    add(`${p}self_attn.k_proj.weight`, [s.kvHeads * headDim, s.hidden]);
    add(`${p}self_attn.v_proj.weight`, [s.kvHeads * headDim, s.hidden]);
    add(`${p}self_attn.o_proj.weight`, [s.hidden, s.heads * headDim]);
    add(`${p}mlp.gate_proj.weight`, [s.inter, s.hidden]);
    add(`${p}mlp.up_proj.weight`, [s.inter, s.hidden]);
    add(`${p}mlp.down_proj.weight`, [s.hidden, s.inter]);
    add(`${p}input_layernorm.weight`, [s.hidden]);
    add(`${p}post_attention_layernorm.weight`, [s.hidden]);
  }
  add('model.norm.weight', [s.hidden]);
  add('lm_head.weight', [s.vocab, s.hidden]);
  const config = {
    model_type: 'llama',
    hidden_size: s.hidden,
    intermediate_size: s.inter,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    vocab_size: s.vocab,
    dtype: 'float16',
  };
  return { ref: name, source: 'local', revision: undefined, folder: undefined, config, tensors };
}

describe('estimate vs transformers on an H100 (forward, prompt 512)', () => {
  for (const run of reference.runs.filter((r) => r.scenario === 'forward')) {
    it(`${run.model} ${run.attn} batch ${run.batch}: peak within 2%, memory above the weights within 10%`, () => {
      const r = estimateMemory(llama(run.model), undefined, { batch: run.batch, seq: run.prompt, attention: run.attn });
      assert.ok(r.ok);
      const e = r.value;
      assert.equal(e.weightsBytes, run.weights_bytes);
      const peakRatio = e.peakBytes / run.peak_allocated;
      const aboveWeightsRatio = (e.peakBytes - e.weightsBytes) / (run.peak_allocated - run.weights_bytes);
      assert.ok(Math.abs(peakRatio - 1) < 0.02, `peak ratio ${peakRatio.toFixed(4)}`);
      assert.ok(Math.abs(aboveWeightsRatio - 1) < 0.1, `above-weights ratio ${aboveWeightsRatio.toFixed(4)}`);
    });
  }
});
