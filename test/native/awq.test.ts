import { test } from 'node:test';
import assert from 'node:assert/strict';

import { awqQuantizeLinear, awqSearchScales } from '../../native/lib/awq';
import { dequantize } from '../../native/lib/groupQuantized';
import { correlatedActivations, outputError, randomMatrix, roundHalfEven } from './gptqAwqFixtures';

const f = Math.fround;

/** AutoAWQ's pseudo_quantize_tensor with a zero point, in fp32: codes per [row × group]. */
function rtnZeroPointCodes(w: Float32Array, rows: number, cols: number, bits: number, groupSize: number): Uint8Array {
  const maxInt = 2 ** bits - 1;
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += groupSize) {
      const group = w.subarray(r * cols + c0, r * cols + c0 + groupSize);
      const lo = Math.min(...group);
      const hi = Math.max(...group);
      const scale = f(Math.max(f(hi - lo), f(1e-5)) / maxInt);
      const zero = Math.min(Math.max(-roundHalfEven(f(lo / scale)), 0), maxInt);
      group.forEach((v, i) => {
        codes[r * cols + c0 + i] = Math.min(Math.max(roundHalfEven(f(v / scale)) + zero, 0), maxInt);
      });
    }
  }
  return codes;
}

/** Dequantized W·diag(s) divided back by s: the weight the layer effectively uses. */
function effectiveWeight(wHatScaled: Float32Array, scales: Float32Array, cols: number): Float32Array {
  return wHatScaled.map((v, i) => v / scales[i % cols]);
}

// A few input channels carry 20× larger activations: the case AWQ exists for.
function outlierActivations(tokens: number, cols: number, seed: number): Float32Array {
  const scale = new Float32Array(cols).map((_, c) => (c % 17 === 3 ? 20 : 1));
  return correlatedActivations(tokens, cols, seed, scale);
}

test('ratio 0 without duo scaling gives unit scales and reproduces RTN with zero point exactly', async () => {
  const rows = 32;
  const cols = 128;
  const w = randomMatrix(rows, cols, 21, 0.05);
  const x = outlierActivations(256, cols, 22);
  const search = await awqSearchScales([{ weight: w, rows }], cols, x, { scaleGrid: 1, duoScaling: false, groupSize: 32 });
  assert.equal(search.bestRatio, 0);
  assert.ok(search.scales.every((s) => s === 1));
  const result = await awqQuantizeLinear(w, rows, cols, search.scales, x, false, { groupSize: 32 });
  assert.deepEqual(result.quantized.q, rtnZeroPointCodes(w, rows, cols, 4, 32));
  assert.equal(result.clipMax, null);
});

test('the searched scales lower the output error below RTN, and the loss curve names the best ratio', async () => {
  const rows = 48;
  const cols = 128;
  const tokens = 384;
  const w = randomMatrix(rows, cols, 23, 0.05);
  const up = randomMatrix(rows, cols, 24, 0.05);
  const x = outlierActivations(tokens, cols, 25);
  for (const duoScaling of [false, true]) {
    const search = await awqSearchScales(
      [
        { weight: w, rows },
        { weight: up, rows },
      ],
      cols,
      x,
      { groupSize: 32, duoScaling },
    );
    assert.equal(search.lossByRatio.length, 20);
    assert.equal(search.bestLoss, Math.min(...search.lossByRatio));
    assert.equal(search.bestRatio, search.lossByRatio.indexOf(search.bestLoss) / 20);
    assert.ok(search.bestRatio > 0, `duoScaling=${duoScaling}: ratio ${search.bestRatio}`);

    const scaled = await awqQuantizeLinear(w, rows, cols, search.scales, x, false, { groupSize: 32 });
    const plain = await awqQuantizeLinear(w, rows, cols, new Float32Array(cols).fill(1), x, false, { groupSize: 32 });
    const awqError = outputError(x, tokens, w, effectiveWeight(dequantize(scaled.quantized), search.scales, cols), rows, cols);
    const rtnError = outputError(x, tokens, w, dequantize(plain.quantized), rows, cols);
    assert.ok(awqError < 0.8 * rtnError, `duoScaling=${duoScaling}: AWQ ${awqError} vs RTN ${rtnError}`);
  }
});

for (const tokens of [200, 40]) {
  test(`the loss the search reports is the mean squared output error of its candidate (${tokens} tokens, 64 channels)`, async () => {
    const rows = 16;
    const cols = 64;
    const w = randomMatrix(rows, cols, 26, 0.05);
    const x = outlierActivations(tokens, cols, 27);
    const search = await awqSearchScales([{ weight: w, rows }], cols, x, { groupSize: 32, scaleGrid: 1, duoScaling: false });
    const plain = await awqQuantizeLinear(w, rows, cols, search.scales, x, false, { groupSize: 32 });
    const mse = outputError(x, tokens, w, dequantize(plain.quantized), rows, cols) / (tokens * rows);
    assert.ok(Math.abs(search.bestLoss - mse) <= 1e-4 * mse, `${search.bestLoss} vs ${mse}`);
  });
}

test('the clip search never widens a group and never raises its own output error', async () => {
  const rows = 16;
  const cols = 64;
  const tokens = 256;
  const groupSize = 32;
  const w = randomMatrix(rows, cols, 28, 0.05);
  w[3] = 0.6; // an outlier weight that clipping should cut
  const x = correlatedActivations(tokens, cols, 29);
  const ones = new Float32Array(cols).fill(1);
  const clipped = await awqQuantizeLinear(w, rows, cols, ones, x, true, { groupSize });
  const unclipped = await awqQuantizeLinear(w, rows, cols, ones, x, false, { groupSize });
  assert.ok(clipped.clipMax !== null);
  const a = dequantize(clipped.quantized);
  const b = dequantize(unclipped.quantized);
  let shrunk = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / groupSize; g++) {
      const c0 = g * groupSize;
      const orgMax = Math.max(...Array.from(w.subarray(r * cols + c0, r * cols + c0 + groupSize), Math.abs));
      const chosen = clipped.clipMax[r * 2 + g];
      assert.ok(chosen <= orgMax && chosen >= 0.5 * orgMax);
      if (chosen < orgMax) shrunk++;
      let errClipped = 0;
      let errPlain = 0;
      for (let t = 0; t < tokens; t++) {
        let dc = 0;
        let dp = 0;
        for (let c = c0; c < c0 + groupSize; c++) {
          dc += x[t * cols + c] * (w[r * cols + c] - a[r * cols + c]);
          dp += x[t * cols + c] * (w[r * cols + c] - b[r * cols + c]);
        }
        errClipped += dc * dc;
        errPlain += dp * dp;
      }
      assert.ok(errClipped <= errPlain * (1 + 1e-5), `row ${r} group ${g}: ${errClipped} > ${errPlain}`);
    }
  }
  assert.ok(shrunk > 0, 'some group should have been clipped');
});

test('progress counts the grid points and an aborted signal cancels the search', async () => {
  const w = randomMatrix(8, 32, 30);
  const x = correlatedActivations(64, 32, 31);
  const seen: number[] = [];
  await awqSearchScales([{ weight: w, rows: 8 }], 32, x, { groupSize: 32, scaleGrid: 4 }, { onProgress: (d) => seen.push(d) });
  assert.deepEqual(seen, [1, 2, 3, 4]);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(awqSearchScales([{ weight: w, rows: 8 }], 32, x, { groupSize: 32 }, { signal: controller.signal }), /cancelled/);
});

test('a group size that does not divide in_features is refused with what to change', () => {
  const w = randomMatrix(2, 48, 1);
  assert.throws(
    () => awqSearchScales([{ weight: w, rows: 2 }], 48, new Float32Array(48), { groupSize: 32 }),
    /in_features 48 is not a multiple of group_size 32/,
  );
});
