// The CPU engine's memory estimate on tiny-llama's shapes: every term computed here from config.json and the
// engine's storage rules (fp32 KV cache and activations, weights mapped as stored, fp32 copies of norms and
// of each quantized Linear's group factors), and the embedding rows a run maps.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CPU_ENGINE_CONSTANTS, estimateCpuMemory, resolveModel } from '../../../native/model';
import type { CpuEstimateOptions, JsonObject, MemoryEstimate, ResolvedModel, TensorMeta } from '../../../native/model';
import { H, HD, HEADS, I, KV, L, LINEARS, V, tinyLlamaDir } from './tinyLlamaShapes';

const F32 = 4;
const C = CPU_ENGINE_CONSTANTS;
const TOKENIZER_BYTES = statSync(join(tinyLlamaDir, 'tokenizer.json')).size;
const GENERATE: CpuEstimateOptions = { batch: 1, promptTokens: 27, newTokens: 64, threads: 2, tokenizerBytes: TOKENIZER_BYTES };

let tiny: ResolvedModel;
before(async () => {
  const r = await resolveModel(tinyLlamaDir, { env: {} });
  assert.ok(r.ok);
  tiny = r.model;
});

function estimate(model: ResolvedModel, quantization: JsonObject | undefined, options: CpuEstimateOptions): MemoryEstimate {
  const r = estimateCpuMemory(model, quantization, options);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const line = (e: MemoryEstimate, label: string): number => e.breakdown.find((l) => l.label === label)?.bytes ?? 0;
/** Per engine thread: the measured constant plus a dense kernel panel (16 rows of the widest input), and a
 *  dequantized one when any Linear is quantized. */
const threadBytes = (threads: number, quantized: boolean): number =>
  threads * (C.perThreadBytes + 16 * Math.max(H, I) * F32 * (quantized ? 2 : 1));

describe('CPU engine estimate on tiny-llama', () => {
  it('holds the KV cache in fp32 for prompt + new tokens per sequence', () => {
    for (const batch of [1, 3]) {
      const e = estimate(tiny, undefined, { ...GENERATE, batch });
      assert.equal(e.kvCacheBytes, L * 2 * KV * HD * (27 + 64) * F32 * batch);
      assert.equal(line(e, 'KV cache (fp32)'), e.kvCacheBytes);
    }
  });

  it('lmHead int8: the mapped lm_head becomes an int8 copy on the heap, its fp16 pages counted while loading only', () => {
    const stored = estimate(tiny, undefined, GENERATE);
    const int8 = estimate(tiny, undefined, { ...GENERATE, lmHead: 'int8' });
    const headBytes = line(stored, 'lm_head');
    assert.equal(headBytes, V * H * 2);
    assert.equal(line(int8, 'lm_head'), 0);
    assert.equal(line(int8, 'lm_head as int8 (quantized at load)'), V * H + V * F32);
    assert.equal(line(int8, 'load-time dense lm_head (released once copied)'), headBytes);
    assert.equal(int8.mappedBytes, stored.mappedBytes! - headBytes);
  });

  it('lmHead int8 of a tied head: the embedding maps only the rows a run reads, the int8 copy is the head', async () => {
    const r = await resolveModel(join(tinyLlamaDir, '..', '..', 'test', 'fixtures', 'llama3.2-random'), { env: {} });
    assert.ok(r.ok);
    const embed = r.model.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    const [vocab, hidden] = embed.shape as [number, number];
    // one row read: a 64 KiB window of the 256 KB embedding
    const run = { ...GENERATE, tokenizerBytes: 0, tokensRead: { prompt: 1, generated: 0 } };
    const stored = estimate(r.model, undefined, run);
    const int8 = estimate(r.model, undefined, { ...run, lmHead: 'int8' });
    assert.equal(line(stored, 'embeddings (mapped rows)'), embed.bytes);
    assert.equal(line(int8, 'embeddings (mapped rows)'), C.mappedWindowBytes);
    assert.equal(line(int8, 'lm_head as int8 (quantized at load)'), vocab * hidden + vocab * F32);
    assert.equal(line(int8, 'load-time dense lm_head (released once copied)'), embed.bytes);
  });

  it('holds it in half the bytes with kvCache fp16, and the peak drops by that much', () => {
    const floats = estimate(tiny, undefined, GENERATE);
    const halves = estimate(tiny, undefined, { ...GENERATE, kvCache: 'fp16' });
    assert.equal(halves.kvCacheBytes, L * 2 * KV * HD * (27 + 64) * 2);
    assert.equal(line(halves, 'KV cache (fp16)'), halves.kvCacheBytes);
    assert.equal(floats.peakBytes - halves.peakBytes, floats.kvCacheBytes - halves.kvCacheBytes);
  });

  it("sizes activations by the prompt pass's largest buffers: x, h, delta and the larger of attention and MLP", () => {
    for (const [batch, prompt, threads] of [
      [1, 27, 2],
      [16, 512, 2],
      [1, 512, 16],
    ] as const) {
      const rows = batch * prompt;
      const attention =
        rows * (2 * HEADS * HD + 2 * KV * HD) + Math.min(threads, HEADS) * (2 * prompt * HD + prompt * prompt + HD * prompt);
      const mlp = 2 * rows * I;
      const e = estimate(tiny, undefined, { ...GENERATE, batch, promptTokens: prompt, threads });
      assert.equal(
        line(e, 'activations (fp32, prompt pass)'),
        F32 * (3 * rows * H + Math.max(attention, mlp)),
        `batch ${batch} × ${prompt}`,
      );
      assert.equal(line(e, 'logits (fp32)'), F32 * V * batch);
    }
  });

  it('adds up the fp16 model as stored, fp32 norms, threads, tokenizer and the worker to the peak', () => {
    const e = estimate(tiny, undefined, GENERATE);
    const stored = tiny.tensors.reduce((sum, t) => sum + t.bytes, 0);
    const norms = (2 * L + 1) * H * F32;
    assert.equal(line(e, 'norms widened to fp32'), norms);
    assert.equal(e.weightsBytes, stored + norms, '91 tokens × 64 KiB reach past the 2 MiB embedding: all of it is mapped');
    assert.equal(line(e, 'engine threads'), threadBytes(2, false));
    assert.equal(line(e, 'tokenizer'), Math.round(TOKENIZER_BYTES * C.tokenizerBytesPerFileByte));
    assert.equal(e.overheadBytes, C.processBaselineBytes + line(e, 'tokenizer') + threadBytes(2, false));
    assert.equal(e.peakBytes, e.weightsBytes + e.overheadBytes + e.kvCacheBytes + e.activationBytes);
    assert.equal(
      e.peakBytes,
      e.breakdown.reduce((sum, l) => sum + l.bytes, 0),
    );
  });

  it('keeps fp32 scale and scale·zero per group and output, and a column → group table, per GPTQ Linear', () => {
    const gptq = { quant_method: 'gptq', bits: 4, group_size: 128 };
    const factors = L * LINEARS.reduce((sum, [, out, inF]) => sum + 2 * F32 * (inF / 128) * out + 4 * inF, 0);
    const e = estimate(tiny, gptq, GENERATE);
    assert.equal(line(e, 'dequantization factors (fp32)'), factors);
    assert.equal(line(e, 'act-order sorted codes'), 0);
    assert.equal(line(e, 'engine threads'), threadBytes(2, true));
    // Act-order: a copy of qweight (in·4/32 words × out) with its columns sorted by group, and the order.
    const sorted = L * LINEARS.reduce((sum, [, out, inF]) => sum + ((inF * 4) / 32) * out * 4 + 4 * inF, 0);
    assert.equal(line(estimate(tiny, { ...gptq, desc_act: true }, GENERATE), 'act-order sorted codes'), sorted);
  });

  it('keeps one fp32 absmax per 64-weight block for NF4, and counts the validation copy while loading', () => {
    const e = estimate(tiny, { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' }, GENERATE);
    assert.equal(line(e, 'dequantization factors (fp32)'), L * LINEARS.reduce((sum, [, out, inF]) => sum + (F32 * (out * inF)) / 64, 0));
    // The largest Linear's packed codes (two per byte) and its fp32 absmax, copied then freed.
    const largest = I * H;
    assert.equal(line(e, 'load-time layer copy (freed before the run)'), largest / 2 + (largest / 64) * F32);
    const runBuffers = e.kvCacheBytes + e.activationBytes;
    assert.equal(e.peakBytes, e.weightsBytes + e.overheadBytes + Math.max(runBuffers, largest / 2 + (largest / 64) * F32));
  });

  it('uses the measuring process baseline and no tokenizer for a benchmark phase', () => {
    const e = estimate(tiny, undefined, { ...GENERATE, tokenizerBytes: 0, process: 'measuring' });
    assert.equal(line(e, 'tokenizer'), 0);
    assert.equal(line(e, 'measuring process (Node, addon)'), C.measuringProcessBaselineBytes);
  });

  it('rejects a prompt of no tokens with an error value', () => {
    const r = estimateCpuMemory(tiny, undefined, { ...GENERATE, promptTokens: 0 });
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'invalid');
    assert.match(r.error.message, /promptTokens 0/);
  });
});

describe('CPU engine estimate: embedding rows mapped', () => {
  const BIG_VOCAB = 32000;
  /** tiny-llama's tensors with a 32,000-row embedding and lm_head (tied: no lm_head). */
  function bigVocab(tied: boolean): ResolvedModel {
    const tensors: TensorMeta[] = tiny.tensors
      .filter((t) => !(tied && t.name === 'lm_head.weight'))
      .map((t) => (/embed_tokens|lm_head/.test(t.name) ? { ...t, shape: [BIG_VOCAB, H], bytes: BIG_VOCAB * H * 2 } : t));
    return { ...tiny, config: { ...tiny.config, vocab_size: BIG_VOCAB }, tensors };
  }
  const embedding = BIG_VOCAB * H * 2;
  const storedWithout = (m: ResolvedModel): number =>
    m.tensors.filter((t) => !/embed_tokens/.test(t.name)).reduce((s, t) => s + t.bytes, 0);

  it('maps a fault-around window per row read, prompt rows only among the ids the tokenizer has', () => {
    const m = bigVocab(false);
    const norms = (2 * L + 1) * H * F32;
    const e = estimate(m, undefined, { ...GENERATE, promptTokens: 10, newTokens: 5 });
    assert.equal(line(e, 'embeddings (mapped rows)'), 15 * C.mappedWindowBytes);
    assert.equal(e.weightsBytes, storedWithout(m) + 15 * C.mappedWindowBytes + norms);
    // 2,000 prompt tokens from a 4,096-id tokenizer reach its 4,096 rows (2 MiB) at most; 5 new tokens anywhere.
    const capped = estimate(m, undefined, { ...GENERATE, promptTokens: 2000, newTokens: 5, promptVocab: 4096 });
    assert.equal(line(capped, 'embeddings (mapped rows)'), 4096 * H * 2 + 5 * C.mappedWindowBytes);
    const all = estimate(m, undefined, { ...GENERATE, promptTokens: 2000, newTokens: 5 });
    assert.equal(line(all, 'embeddings (mapped rows)'), Math.min(embedding, 2005 * C.mappedWindowBytes));
  });

  it('maps all of a tied embedding: the head reads every row', () => {
    const e = estimate(bigVocab(true), undefined, { ...GENERATE, promptTokens: 10, newTokens: 5 });
    assert.equal(line(e, 'embeddings (mapped rows)'), embedding);
  });
});
