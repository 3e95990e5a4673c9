// The memory estimate of Mixture-of-Experts models: every expert's weights count (not only the top-k a token uses), the
// routers stay as stored under every method, and experts' linears are one breakdown line per name.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { estimateCpuQuantize, estimateMemory, quantSettingsOf, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';

const fixtures = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

async function open(name: string): Promise<ResolvedModel> {
  const r = await resolveModel(join(fixtures, name), { env: {} });
  assert.ok(r.ok);
  return r.model;
}

function estimate(model: ResolvedModel, config: JsonObject | undefined): MemoryEstimate {
  const r = estimateMemory(model, config, { batch: 1, seq: 64 });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const line = (e: MemoryEstimate, label: string) => e.breakdown.find((l) => l.label === label);
const BF16 = 2;
const F32 = 4;

describe('MoE memory estimate', () => {
  it('Mixtral: all 8 experts of both layers and the routers, which GPTQ leaves as stored', async () => {
    const model = await open('mixtral-random');
    const stored = estimate(model, undefined);
    // Every tensor of the file counts: the weights are the file's tensor bytes.
    const file = join(fixtures, 'mixtral-random', 'model.safetensors');
    assert.equal(
      stored.weightsBytes,
      model.tensors.reduce((n, t) => n + t.bytes, 0),
    );
    assert.ok(stored.weightsBytes < statSync(file).size);
    // hidden 128, intermediate 128, 8 experts, 2 layers: w1 is [128 × 128] in bf16 in each of 16 experts.
    assert.deepEqual(line(stored, 'experts.w1'), { label: 'experts.w1', bytes: 16 * 128 * 128 * BF16, count: 16 });
    assert.deepEqual(line(stored, 'routers'), { label: 'routers', bytes: 2 * 8 * 128 * BF16, count: 2 });
    const gptq = estimate(model, { quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false, sym: true });
    assert.deepEqual(line(gptq, 'routers'), line(stored, 'routers'));
    for (const name of ['experts.w1', 'experts.w3', 'experts.w2']) {
      const quantized = line(gptq, name)!;
      assert.equal(quantized.count, 16);
      assert.ok(quantized.bytes < line(stored, name)!.bytes / 3, `${name}: ${quantized.bytes}`);
    }
    assert.equal(line(gptq, 'gate'), undefined);
  });

  it('Qwen2-MoE under GPTQ: every expert and the shared expert quantized, the router and shared_expert_gate not', async () => {
    const model = await open('qwen2-moe-random');
    const gptq = estimate(model, { quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false, sym: true });
    // Router [8 × 64] and shared_expert_gate [1 × 64] per layer, 2 layers.
    assert.deepEqual(line(gptq, 'routers'), { label: 'routers', bytes: 2 * (8 + 1) * 64 * BF16, count: 4 });
    assert.equal(line(gptq, 'shared_expert.gate_proj')!.count, 2);
    assert.ok(line(gptq, 'shared_expert.gate_proj')!.bytes < (2 * 128 * 64 * BF16) / 3);
    assert.equal(line(gptq, 'experts.down_proj')!.count, 16);
    assert.ok(line(gptq, 'experts.down_proj')!.bytes < (16 * 64 * 64 * BF16) / 3);
  });

  it('Qwen2-MoE under bitsandbytes: routed experts and the router as stored, the shared expert and its gate quantized (transformers 5.23)', async () => {
    const model = await open('qwen2-moe-random');
    const configs: JsonObject[] = [
      { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
      { quant_method: 'bitsandbytes', load_in_8bit: true },
    ];
    for (const config of configs) {
      const bnb = estimate(model, config);
      assert.deepEqual(line(bnb, 'experts.down_proj'), { label: 'experts.down_proj', bytes: 16 * 64 * 64 * BF16, count: 16 });
      assert.deepEqual(line(bnb, 'routers'), { label: 'routers', bytes: 2 * 8 * 64 * BF16, count: 2 });
      assert.equal(line(bnb, 'shared_expert_gate')!.count, 2);
      assert.ok(line(bnb, 'shared_expert.up_proj')!.bytes < 2 * 128 * 64 * BF16 * 0.6);
    }
  });
});

describe('MoE quantize job estimate', () => {
  it("AWQ on Qwen2-MoE: the experts' captured inputs (top-k rows a token) and the one gate/up group over every expert", async () => {
    const model = await open('qwen2-moe-random');
    const settings = quantSettingsOf({ quant_method: 'awq', bits: 4, group_size: 32, zero_point: true, version: 'gemm' }, 'job');
    assert.ok(settings.ok);
    const options = { samples: 8, seqLen: 64, trueSequential: true, threads: 2, tokenizerBytes: 0, calibrationTextBytes: 0 };
    const r = estimateCpuQuantize(model, settings.value, { ...options, algorithm: 'awq' });
    assert.ok(r.ok);
    // hidden 64 (4 heads of 16), 8 experts of width 64, top-2, a shared expert of width 128; 512 calibration tokens.
    const tokens = 512;
    const taps = F32 * tokens * (64 + 64 + 64 + 128) + F32 * 2 * tokens * (64 + 64);
    // Two fp32 copies of every expert's and the shared expert's gate/up; the features packed as token rows: at most
    // max(64, 8) rows an expert (top-2 · 512 = 1024 > 8 · 64), gate and up a copy each plus down, and the block input
    // with the shared expert's features and the block outputs (5 · hidden + shared width a row, 64 rows).
    const search = F32 * (2 * 2 * 64 * (8 * 64 + 128) + 8 * 64 * (2 * 64 + 64) + 64 * (5 * 64 + 128));
    assert.deepEqual(line(r.value, 'captured linear inputs and scale search (largest step)'), {
      label: 'captured linear inputs and scale search (largest step)',
      bytes: taps + search,
      count: 6,
    });
  });
});
