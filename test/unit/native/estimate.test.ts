// The memory estimate: weight bytes per method computed here independently from the model's shapes,
// the KV cache formula on a GQA model, which modules each method quantizes, and config parsing.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { compareMethods, estimateMemory, quantSettingsOf, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';
import { H, HD, HEADS, I, KV, L, LINEARS, V, repo, tinyLlamaDir } from './tinyLlamaShapes';

const FP16 = 2;
/** Everything that is never quantized: embeddings, lm_head, the final norm and two norms per layer. */
const UNQUANTIZED_BYTES = (2 * V * H + H + L * 2 * H) * FP16;

let tinyLlama: ResolvedModel;
before(async () => {
  const r = await resolveModel(tinyLlamaDir, { env: {} });
  assert.ok(r.ok);
  tinyLlama = r.model;
});

function estimate(model: ResolvedModel, quantizationConfig: JsonObject | undefined, batch = 1, seq = 64): MemoryEstimate {
  const r = estimateMemory(model, quantizationConfig, { batch, seq });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

/** Expected weight bytes when every Linear but `skipped` takes `perLinear(out, in)` bytes. */
function expectedWeights(perLinear: (out: number, inF: number) => number, skipped: readonly string[] = []): number {
  let total = UNQUANTIZED_BYTES;
  for (const [name, out, inF] of LINEARS) total += L * (skipped.includes(name) ? out * inF * FP16 : perLinear(out, inF));
  return total;
}

describe('weights per method on tiny-llama', () => {
  it("fp16 as stored is exactly the checkpoint's tensor bytes", () => {
    const file = join(tinyLlamaDir, 'model.safetensors');
    const header = 8 + Number(readFileSync(file).readBigUInt64LE(0));
    assert.equal(estimate(tinyLlama, undefined).weightsBytes, statSync(file).size - header);
    assert.equal(
      estimate(tinyLlama, undefined).weightsBytes,
      expectedWeights((o, i) => o * i * FP16),
    );
  });

  const gptq =
    (bits: number, group: number) =>
    (out: number, inF: number): number => {
      const groups = group === -1 ? 1 : inF / group;
      return (
        ((inF * bits) / 32) * out * 4 /* qweight */ +
        groups * ((out * bits) / 32) * 4 /* qzeros */ +
        groups * out * 2 /* scales */ +
        inF * 4
      ); /* g_idx */
    };
  for (const [bits, group] of [
    [4, 128],
    [3, 128],
    [2, 64],
    [8, -1],
  ] as const) {
    it(`GPTQ ${bits}-bit group ${group}`, () => {
      const e = estimate(tinyLlama, { quant_method: 'gptq', bits, group_size: group, desc_act: bits === 8 });
      assert.equal(e.weightsBytes, expectedWeights(gptq(bits, group)));
    });
  }

  it('AWQ 4-bit GEMM g128 (AutoAWQ quant_config.json keys)', () => {
    const awq = (out: number, inF: number): number => inF * (out / 8) * 4 + (inF / 128) * (out / 8) * 4 + (inF / 128) * out * 2;
    assert.equal(
      estimate(tinyLlama, { zero_point: true, q_group_size: 128, w_bit: 4, version: 'GEMM' }).weightsBytes,
      expectedWeights(awq),
    );
  });

  it('AWQ GEMV g64: zero/scale words per row rounded up to 2 (256 and 768 inputs: 4 and 12 groups → 1 and 2 words → 2)', () => {
    const words = 2;
    const gemv = (out: number, inF: number): number => out * (inF / 8) * 4 + out * words * 4 + out * 8 * words * 2;
    assert.equal(
      estimate(tinyLlama, { quant_method: 'awq', bits: 4, group_size: 64, version: 'gemv' }).weightsBytes,
      expectedWeights(gemv),
    );
  });

  it('bitsandbytes NF4 without double quant', () => {
    const state = Buffer.byteLength('{"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [OUT, IN]}');
    const nf4 = (out: number, inF: number): number =>
      (out * inF) / 2 + ((out * inF) / 64) * 4 + 16 * 4 + state - 'OUTIN'.length + String(out).length + String(inF).length;
    assert.equal(
      estimate(tinyLlama, { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' }).weightsBytes,
      expectedWeights(nf4),
    );
  });

  it('bitsandbytes FP4 with double quant (uint8 absmax + nested absmax per 256 blocks + nested map)', () => {
    const nested = (out: number, inF: number): number => {
      const blocks = (out * inF) / 64;
      const state = `{"quant_type": "fp4", "blocksize": 64, "dtype": "float16", "shape": [${out}, ${inF}], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.01234567891234567}`;
      return (out * inF) / 2 + blocks + Math.ceil(blocks / 256) * 4 + 256 * 4 + 16 * 4 + state.length;
    };
    const e = estimate(tinyLlama, {
      quant_method: 'bitsandbytes',
      load_in_4bit: true,
      bnb_4bit_quant_type: 'fp4',
      bnb_4bit_use_double_quant: true,
    });
    assert.equal(e.weightsBytes, expectedWeights(nested));
  });

  it('LLM.int8 honours llm_int8_skip_modules', () => {
    const int8 = (out: number, inF: number): number => out * inF + out * 4 + 1;
    const e = estimate(tinyLlama, { quant_method: 'bitsandbytes', load_in_8bit: true, llm_int8_skip_modules: ['down_proj'] });
    assert.equal(e.weightsBytes, expectedWeights(int8, ['down_proj']));
    assert.deepEqual(
      e.breakdown.find((l) => l.label === 'down_proj'),
      { label: 'down_proj', bytes: L * H * I * FP16, count: L },
    );
  });

  it('modules_to_not_convert keeps whole modules in fp16', () => {
    const e = estimate(tinyLlama, { quant_method: 'gptq', bits: 4, group_size: 128, modules_to_not_convert: ['self_attn.q_proj', 'mlp'] });
    assert.equal(e.weightsBytes, expectedWeights(gptq(4, 128), ['q_proj', 'gate_proj', 'up_proj', 'down_proj']));
  });
});

describe('KV cache, activations, breakdown', () => {
  it('KV cache is 2 × layers × kv_heads × head_dim × batch × seq × 2 bytes (GQA: kv heads, not heads)', () => {
    assert.ok(KV < HEADS, 'tiny-llama is a GQA model');
    for (const [batch, seq] of [
      [1, 512],
      [16, 512],
      [3, 100],
    ] as const) {
      assert.equal(estimate(tinyLlama, undefined, batch, seq).kvCacheBytes, 2 * L * KV * HD * batch * seq * FP16);
    }
  });

  it('peak is weights + KV cache + activations + overhead, and the breakdown lines add up to it', () => {
    const e = estimate(tinyLlama, { quant_method: 'awq', bits: 4, group_size: 128 }, 4, 256);
    assert.equal(e.peakBytes, e.weightsBytes + e.kvCacheBytes + e.activationBytes + e.overheadBytes);
    assert.equal(
      e.breakdown.reduce((a, l) => a + l.bytes, 0),
      e.peakBytes,
    );
    // At 4 × 256 tokens the logits are the largest activation (normed hidden + logits), and AWQ adds a
    // dequantization buffer the size of its largest quantized Linear (gate/up: I × H).
    assert.equal(e.activationBytes, 4 * 256 * (H + V) * FP16 + I * H * FP16);
  });

  it('quantizes every decoder Linear of OPT (q/k/v/out_proj, fc1, fc2) and nothing else', async () => {
    const r = await resolveModel(join(repo, 'test', 'fixtures', 'opt-random'), { env: {} });
    assert.ok(r.ok);
    const layers = r.model.config['num_hidden_layers'] as number;
    const e = estimate(r.model, { quant_method: 'bitsandbytes', load_in_8bit: true });
    const asStored = estimate(r.model, undefined);
    const quantizedLabels = e.breakdown
      .filter((l) => asStored.breakdown.find((s) => s.label === l.label)?.bytes !== l.bytes)
      .map((l) => l.label)
      .sort();
    assert.deepEqual(quantizedLabels, ['fc1', 'fc2', 'k_proj', 'out_proj', 'q_proj', 'v_proj']);
    for (const label of quantizedLabels) assert.equal(e.breakdown.find((l) => l.label === label)?.count, layers);
  });

  it('compareMethods orders the methods by weight size as their bit widths say', () => {
    const r = compareMethods(tinyLlama, { batch: 1, seq: 128 });
    assert.ok(r.ok);
    const weights = Object.fromEntries(r.value.map((m) => [m.label, m.estimate.weightsBytes]));
    assert.deepEqual(Object.keys(weights), ['fp16 (as stored)', 'GPTQ 4-bit g128', 'GPTQ 3-bit g128', 'AWQ 4-bit g128', 'NF4', 'int8']);
    assert.equal(weights['fp16 (as stored)'], estimate(tinyLlama, undefined).weightsBytes);
    assert.equal(weights['GPTQ 4-bit g128'], expectedWeights(gptq4g128));
    assert.ok(
      weights['GPTQ 3-bit g128']! < weights['GPTQ 4-bit g128']! &&
        weights['GPTQ 4-bit g128']! < weights['int8']! &&
        weights['int8']! < weights['fp16 (as stored)']!,
    );
  });
});

function gptq4g128(out: number, inF: number): number {
  return (inF / 8) * out * 4 + (inF / 128) * (out / 8) * 4 + (inF / 128) * out * 2 + inF * 4;
}

describe('quantization config shapes', () => {
  const corpus = (path: string): JsonObject =>
    JSON.parse(readFileSync(join(repo, 'test', 'fixtures', 'corpus', path), 'utf8')) as JsonObject;
  it('reads AutoGPTQ quantize_config.json, job files, and bitsandbytes defaults', () => {
    assert.deepEqual(quantSettingsOf(corpus('thebloke-llama-2-7b-gptq/quantize_config.json'), 'q'), {
      ok: true,
      value: { method: 'gptq', bits: 4, groupSize: 128, descAct: false, skip: ['lm_head'] },
    });
    assert.deepEqual(quantSettingsOf(corpus('job-gptq-tiny-llama/tiny-llama-gptq.quant.json'), 'j'), {
      ok: true,
      value: { method: 'gptq', bits: 4, groupSize: 128, descAct: false, skip: ['lm_head'] },
    });
    assert.deepEqual(quantSettingsOf({ quant_method: 'bitsandbytes', load_in_4bit: true }, 'b'), {
      ok: true,
      value: { method: 'bnb4', quantType: 'fp4', doubleQuant: false, skip: ['lm_head'] },
    });
  });

  it('explains configs it cannot estimate', () => {
    const bad = quantSettingsOf({ quant_method: 'gptq', bits: 5 }, 'file.json');
    assert.ok(!bad.ok);
    assert.equal(bad.error.where, 'file.json');
    assert.match(bad.error.hint, /2, 3, 4 or 8/);
    const other = quantSettingsOf({ quant_method: 'fp8' }, 'x');
    assert.ok(!other.ok);
    assert.equal(other.error.code, 'unsupported');
  });
});
