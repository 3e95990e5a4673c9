// GPTAQ (GPTQModel 7.7 `gptaq: {alpha}`) on one linear: the quantized model's inputs X̃ build the Hessian as in
// GPTQ, and the cross moment of the full-precision inputs X steers the error feedback toward W·X, the output the
// full-precision model gives. Upstream equivalence on real tiny-llama layers is test/reference/gptq-equivalence.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { gptqQuantize } from '../../native/lib/gptq';
import { dequantize } from '../../native/lib/groupQuantized';
import { correlatedActivations, gaussian, randomMatrix } from './gptqAwqFixtures';

const rows = 48;
const cols = 256;
const tokens = 1024;
const w = randomMatrix(rows, cols, 11, 0.05);
const fpX = correlatedActivations(tokens, cols, 12);

/** X̃: the full-precision inputs as a quantized model upstream of the linear drifts them (scaled channels plus noise). */
function drifted(x: Float32Array, seed: number): Float32Array {
  const g = gaussian(seed);
  const gain = Array.from({ length: cols }, () => 1 + 0.1 * g());
  return x.map((v, i) => v * gain[i % cols] + 0.15 * g());
}

function batches(x: Float32Array, size = 256): Float32Array[] {
  const out: Float32Array[] = [];
  for (let t = 0; t < tokens; t += size) out.push(x.subarray(t * cols, Math.min(t + size, tokens) * cols));
  return out;
}

/** ‖X·Wᵀ − X̃·Ŵᵀ‖²: how far the quantized linear on its own inputs lands from the full-precision output. */
function driftError(x: Float32Array, xq: Float32Array, wHat: Float32Array): number {
  let total = 0;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let c = 0; c < cols; c++) d += x[t * cols + c] * w[r * cols + c] - xq[t * cols + c] * wHat[r * cols + c];
      total += d * d;
    }
  }
  return total;
}

const base = { bits: 3 as const, groupSize: 64, sym: true };

test('with inputs that did not drift GPTAQ is GPTQ: the same codes, scales and loss', async () => {
  const plain = await gptqQuantize(w, rows, cols, batches(fpX), base);
  const gptaq = await gptqQuantize(w, rows, cols, batches(fpX), { ...base, gptaqAlpha: 0.25, fpActivationBatches: batches(fpX) });
  assert.deepEqual(gptaq.quantized.q, plain.quantized.q);
  assert.deepEqual(gptaq.quantized.scales, plain.quantized.scales);
  assert.equal(gptaq.loss, plain.loss);
});

test('on drifted inputs GPTAQ lands closer to the full-precision output than GPTQ, more so as alpha grows', async () => {
  const xq = drifted(fpX, 13);
  const errorAt = async (alpha: number) => {
    const r = await gptqQuantize(w, rows, cols, batches(xq), { ...base, gptaqAlpha: alpha, fpActivationBatches: batches(fpX) });
    return driftError(fpX, xq, dequantize(r.quantized));
  };
  const gptq = driftError(fpX, xq, dequantize((await gptqQuantize(w, rows, cols, batches(xq), base)).quantized));
  const quarter = await errorAt(0.25);
  const full = await errorAt(1);
  assert.ok(quarter < gptq, `alpha 0.25: ${quarter} vs GPTQ ${gptq}`);
  assert.ok(full < quarter, `alpha 1: ${full} vs alpha 0.25 ${quarter}`);
});

test('GPTAQ keeps desc_act order and g_idx, and takes no group-aware order (as GPTQModel 7.7 gptaq.py)', async () => {
  const xq = drifted(fpX, 14);
  const fp = batches(fpX);
  const descAct = await gptqQuantize(w, rows, cols, batches(xq), { ...base, descAct: true, gptaqAlpha: 0.25, fpActivationBatches: fp });
  const plainOrder = Array.from({ length: cols }, (_, c) => Math.floor(c / base.groupSize));
  assert.notDeepEqual(Array.from(descAct.quantized.gIdx), plainOrder);
  const withGar = await gptqQuantize(w, rows, cols, batches(xq), {
    ...base,
    actGroupAware: true,
    gptaqAlpha: 0.25,
    fpActivationBatches: fp,
  });
  const withoutGar = await gptqQuantize(w, rows, cols, batches(xq), { ...base, gptaqAlpha: 0.25, fpActivationBatches: fp });
  assert.deepEqual(withGar.quantized.q, withoutGar.quantized.q);
});

test('GPTAQ without the full-precision inputs, or with mismatched ones, is refused at the call', () => {
  assert.throws(() => gptqQuantize(w, rows, cols, batches(fpX), { ...base, gptaqAlpha: 0.25 }), /gptaqAlpha needs fpActivationBatches/);
  const short = batches(fpX).slice(0, 2);
  assert.throws(
    () => gptqQuantize(w, rows, cols, batches(fpX), { ...base, gptaqAlpha: 0.25, fpActivationBatches: short }),
    /gptaqAlpha needs fpActivationBatches/,
  );
  const wrong = batches(fpX).map((b) => b.subarray(0, cols));
  assert.throws(
    () => gptqQuantize(w, rows, cols, batches(fpX), { ...base, gptaqAlpha: 0.25, fpActivationBatches: wrong }),
    /fp activation batch 0 has 256 values, its batch 65536/,
  );
  assert.throws(() => gptqQuantize(w, rows, cols, batches(fpX), { ...base, gptaqAlpha: -1 }), /gptaq\.alpha must be a number >= 0/);
});
