// Mixed precision by sensitivity, the allocating half, on the demo model's real tensors with measured-looking
// sensitivities: the budget spent greedily on the layers that save the most divergence per bit, its bounds computed
// here from the GPTQ layout's tensor sizes, the `dynamic` it writes after the config's own keys, and the
// measurement's work in the quantize estimate.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  allocateBits,
  checkBudget,
  decoderLayersOf,
  layerDynamicKey,
  mixedPrecisionDefaults,
  quantSettingsOf,
  quantizeWork,
  readLocalModel,
  resolveModel,
} from '../../../native/model';
import type { WidthSensitivity } from '../../../native/model';
import { H, HD, HEADS, L, LINEARS, repo, tinyLlamaDir, V } from './tinyLlamaShapes';

const config = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false };

/** GPTQ v1 bits per weight of `bits`-wide layers: qweight, qzeros (bits wide), fp16 scales per group of 128, int32 g_idx. */
function layerBits(bits: number): { bits: number; weights: number } {
  let total = 0;
  let weights = 0;
  for (const [, rows, cols] of LINEARS) {
    total += rows * cols * bits + (cols / 128) * rows * (bits + 16) + cols * 32;
    weights += rows * cols;
  }
  return { bits: total, weights };
}

function bpw(wide: number, layers: number): number {
  const [lo, hi] = [layerBits(3), layerBits(wide)];
  return ((L - layers) * lo.bits + layers * hi.bits) / (L * lo.weights);
}

const sensitivity = (gains: number[]): WidthSensitivity => ({
  fpNll: 3,
  samples: 16,
  tokens: 16 * 255,
  seconds: 1,
  layers: gains.map((g, i) => ({ layer: `model.layers.${i}`, kl: [0.01 + g, 0.01] })),
});

test('the budget goes to the layers that save the most per bit, and the stored bits per weight are what the layout holds', async () => {
  const { tensors } = await readLocalModel(tinyLlamaDir);
  assert.deepEqual(decoderLayersOf(tensors), ['model.layers.0', 'model.layers.1', 'model.layers.2', 'model.layers.3']);
  const measured = sensitivity([0.003, 0.001, 0.004, -0.0005]);
  for (const [target, widened] of [
    [bpw(4, 0) + 0.01, []],
    [bpw(4, 1), ['model.layers.2']],
    [3.75, ['model.layers.0', 'model.layers.2']],
    // The last layer would cost as much as the others, but saves nothing.
    [bpw(4, 4) - 1e-6, ['model.layers.0', 'model.layers.1', 'model.layers.2']],
  ] as const) {
    const a = allocateBits(tensors, config, { bitsPerWeight: target }, measured);
    assert.deepEqual(
      a.layers.filter((l) => l.widened).map((l) => l.layer),
      widened,
      `budget ${target}`,
    );
    assert.ok(Math.abs(a.bitsPerWeight - bpw(4, widened.length)) < 1e-12, `budget ${target}: ${a.bitsPerWeight}`);
    assert.ok(a.bitsPerWeight <= target + 1e-9);
    assert.deepEqual(a.dynamic, Object.fromEntries(widened.map((l) => [layerDynamicKey(l), { bits: 4 }])));
    for (const l of a.layers) assert.ok(Math.abs(l.cost - (bpw(4, 1) - bpw(4, 0))) < 1e-12, l.layer);
  }
  assert.equal(layerDynamicKey('model.layers.12'), '+:model\\.layers\\.12\\..*');
});

test("the config's own dynamic keys come first and the wide width can be chosen", async () => {
  const { tensors } = await readLocalModel(tinyLlamaDir);
  const own = { '-:.*lm_head': {}, '+:.*down_proj': { group_size: 64 } };
  const a = allocateBits(tensors, { ...config, dynamic: own }, { bitsPerWeight: 4.5, bits: 8 }, sensitivity([0.003, 0.001, 0.004, 0.002]));
  assert.equal(a.wideBits, 8);
  assert.deepEqual(Object.keys(a.dynamic), ['-:.*lm_head', '+:.*down_proj', layerDynamicKey('model.layers.2')]);
});

test('a budget outside [all base, all wide) is refused naming both ends, and so is a wide width GPTQ does not store', async () => {
  const { tensors } = await readLocalModel(tinyLlamaDir);
  const [low, high] = [bpw(4, 0), bpw(4, 4)];
  const message = (t: number): RegExp =>
    new RegExp(
      `mixedPrecision.bitsPerWeight ${t}: this model stores ${low.toFixed(2)} bits per weight at bits 3 and ${high.toFixed(2)} at 4; ` +
        `give a budget from ${low.toFixed(2)} to below ${high.toFixed(2)}$`,
    );
  for (const t of [low - 0.01, high]) assert.throws(() => checkBudget(tensors, config, { bitsPerWeight: t }), message(t));
  assert.doesNotThrow(() => checkBudget(tensors, config, { bitsPerWeight: low }));
  assert.throws(
    () => checkBudget(tensors, config, { bitsPerWeight: 3.5, bits: 5 }),
    /mixedPrecision.bits: give a width GPTQ stores above the config's bits 3 \(4, 8\)$/,
  );
  assert.throws(() => checkBudget(tensors, { ...config, quant_method: 'awq' }, { bitsPerWeight: 3.5 }), /mixedPrecision: GPTQ jobs only/);
});

test("mixedPrecision's defaults are the job schema's", () => {
  const schema = JSON.parse(readFileSync(join(repo, 'schemas', 'job.schema.json'), 'utf8'));
  const props = schema.properties.mixedPrecision.properties;
  const defaults = Object.fromEntries(
    Object.entries(props).flatMap(([k, v]) => ('default' in (v as object) ? [[k, (v as { default: unknown }).default]] : [])),
  );
  assert.deepEqual(defaults, { ...mixedPrecisionDefaults });
});

test("the quantize estimate prices mixedPrecision's measurement: 2 × L(L+1)/2 + 2L layer passes and 4L + 1 heads per window", async () => {
  const resolved = await resolveModel(tinyLlamaDir, {});
  assert.ok(resolved.ok);
  const settings = quantSettingsOf(config, 'config');
  assert.ok(settings.ok);
  const options = { algorithm: 'gptq' as const, samples: 128, seqLen: 256, trueSequential: true, threads: 1, calibrationTextBytes: 0 };
  const plain = quantizeWork(resolved.model, settings.value, options);
  const mixed = quantizeWork(resolved.model, settings.value, { ...options, mixedPrecisionSamples: 16 });
  assert.ok(plain.ok && mixed.ok);
  const layerMacs = LINEARS.reduce((a, [, rows, cols]) => a + rows * cols, 0) + 256 * HEADS * HD;
  const passes = L * (L + 1) + 2 * L;
  const expected = 2 * 16 * 256 * (passes * layerMacs + (4 * L + 1) * V * H);
  assert.ok(Math.abs(mixed.value.forwardFlop - plain.value.forwardFlop - expected) <= 1e-9 * expected);
  const weights = L * LINEARS.reduce((a, [, rows, cols]) => a + rows * cols, 0);
  assert.equal(mixed.value.weightElement - plain.value.weightElement, 2 * weights);
  const rtnMixed = quantizeWork(resolved.model, settings.value, { ...options, algorithm: 'rtn', mixedPrecisionSamples: 16 });
  const rtn = quantizeWork(resolved.model, settings.value, { ...options, algorithm: 'rtn' });
  assert.ok(rtnMixed.ok && rtn.ok);
  assert.equal(rtnMixed.value.forwardFlop, rtn.value.forwardFlop, 'only GPTQ jobs measure');
});
