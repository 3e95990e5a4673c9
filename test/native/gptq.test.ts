import { test } from 'node:test';
import assert from 'node:assert/strict';

import { REFERENCE_DAMP_PERCENT, gptqQuantize } from '../../native/lib/gptq';
import { dequantize } from '../../native/lib/groupQuantized';
import { correlatedActivations, outputError, randomMatrix, roundHalfEven } from './gptqAwqFixtures';

const f = Math.fround;

/** Round-to-nearest with GPTQ's grid rule (range includes 0; sym fixes zero at (maxq+1)/2), in fp32. */
function rtnCodes(w: Float32Array, rows: number, cols: number, bits: number, groupSize: number, sym: boolean): Uint8Array {
  const maxq = 2 ** bits - 1;
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += groupSize) {
      let lo = 0;
      let hi = 0;
      for (let c = c0; c < c0 + groupSize; c++) {
        lo = Math.min(lo, w[r * cols + c]);
        hi = Math.max(hi, w[r * cols + c]);
      }
      if (sym) {
        hi = Math.max(Math.abs(lo), hi);
        if (lo < 0) lo = -hi;
      }
      const scale = f(f(hi - lo) / maxq);
      const zero = sym ? (maxq + 1) / 2 : roundHalfEven(f(-lo / scale));
      for (let c = c0; c < c0 + groupSize; c++) {
        codes[r * cols + c] = Math.min(Math.max(roundHalfEven(f(w[r * cols + c] / scale)) + zero, 0), maxq);
      }
    }
  }
  return codes;
}

function identityActivations(cols: number): Float32Array {
  const x = new Float32Array(cols * cols);
  for (let i = 0; i < cols; i++) x[i * cols + i] = 1;
  return x;
}

for (const { bits, sym } of [
  { bits: 4, sym: true },
  { bits: 4, sym: false },
  { bits: 3, sym: false },
  { bits: 2, sym: true },
  { bits: 8, sym: false },
]) {
  test(`with an identity Hessian GPTQ equals round-to-nearest exactly (${bits}-bit, ${sym ? 'sym' : 'asym'})`, async () => {
    const rows = 24;
    const cols = 64;
    const w = randomMatrix(rows, cols, 11 + bits);
    const result = await gptqQuantize(w, rows, cols, [identityActivations(cols)], { bits: bits as 2 | 3 | 4 | 8, groupSize: 16, sym });
    assert.deepEqual(result.quantized.q, rtnCodes(w, rows, cols, bits, 16, sym));
    assert.deepEqual(
      Array.from(result.quantized.gIdx),
      Array.from({ length: cols }, (_, c) => Math.floor(c / 16)),
    );
  });
}

test('GPTQ reconstructs WX better than round-to-nearest on correlated activations', async () => {
  const rows = 64;
  const cols = 128;
  const tokens = 512;
  const w = randomMatrix(rows, cols, 3);
  const x = correlatedActivations(tokens, cols, 5);
  const rtn = await gptqQuantize(w, rows, cols, [identityActivations(cols)], { bits: 4, groupSize: 32, sym: false });
  for (const descAct of [false, true]) {
    const gptq = await gptqQuantize(w, rows, cols, [x.subarray(0, 256 * cols), x.subarray(256 * cols)], {
      bits: 4,
      groupSize: 32,
      sym: false,
      descAct,
    });
    const gptqError = outputError(x, tokens, w, dequantize(gptq.quantized), rows, cols);
    const rtnError = outputError(x, tokens, w, dequantize(rtn.quantized), rows, cols);
    assert.ok(gptqError < 0.7 * rtnError, `descAct=${descAct}: GPTQ ${gptqError} vs RTN ${rtnError}`);
    assert.ok(gptq.loss > 0 && Number.isFinite(gptq.loss));
  }
});

test('act-order g_idx assigns every group exactly group_size columns, largest Hessian diagonal first', async () => {
  const rows = 16;
  const cols = 96;
  const scale = new Float32Array(cols).map((_, c) => 0.2 + ((c * 37) % cols) / 10);
  const x = correlatedActivations(300, cols, 9, scale);
  const result = await gptqQuantize(randomMatrix(rows, cols, 2), rows, cols, [x], { bits: 4, groupSize: 32, descAct: true });
  const counts = new Map<number, number>();
  for (const g of result.quantized.gIdx) counts.set(g, (counts.get(g) ?? 0) + 1);
  assert.deepEqual(
    [...counts.entries()].sort((a, b) => a[0] - b[0]),
    [
      [0, 32],
      [1, 32],
      [2, 32],
    ],
  );
  // diag H ∝ Σ x_c²: the 32 most active columns form group 0.
  const energy = Array.from({ length: cols }, (_, c) => {
    let s = 0;
    for (let t = 0; t < 300; t++) s += x[t * cols + c] ** 2;
    return s;
  });
  const top = energy
    .map((e, c) => [e, c])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 32)
    .map(([, c]) => c)
    .sort((a, b) => a - b);
  const group0 = Array.from(result.quantized.gIdx).flatMap((g, c) => (g === 0 ? [c] : []));
  assert.deepEqual(group0, top);
});

test('static groups with act-order keep each column in the group of its own index', async () => {
  const rows = 8;
  const cols = 64;
  const result = await gptqQuantize(randomMatrix(rows, cols, 4), rows, cols, [correlatedActivations(200, cols, 6)], {
    bits: 4,
    groupSize: 16,
    descAct: true,
    staticGroups: true,
  });
  assert.deepEqual(
    Array.from(result.quantized.gIdx),
    Array.from({ length: cols }, (_, c) => Math.floor(c / 16)),
  );
});

test('a dead input column (never active) is quantized to exactly zero', async () => {
  const rows = 12;
  const cols = 48;
  const x = correlatedActivations(200, cols, 8);
  for (let t = 0; t < 200; t++) x[t * cols + 5] = 0;
  const result = await gptqQuantize(randomMatrix(rows, cols, 1), rows, cols, [x], { bits: 4, groupSize: 16, sym: false });
  const wHat = dequantize(result.quantized);
  for (let r = 0; r < rows; r++) assert.equal(wHat[r * cols + 5], 0, `row ${r}`);
});

test('per-channel GPTQ (group_size −1) yields one group per row', async () => {
  const rows = 8;
  const cols = 40;
  const result = await gptqQuantize(randomMatrix(rows, cols, 12), rows, cols, [correlatedActivations(100, cols, 13)], {
    bits: 4,
    groupSize: -1,
  });
  assert.equal(result.quantized.scales.length, rows);
  assert.ok(result.quantized.gIdx.every((g) => g === 0));
});

test('progress reaches every lazy block and an aborted signal cancels', async () => {
  const rows = 8;
  const cols = 300;
  const w = randomMatrix(rows, cols, 14);
  const x = correlatedActivations(64, cols, 15);
  const seen: number[] = [];
  await gptqQuantize(w, rows, cols, [x], { groupSize: 100, blockSize: 128 }, { onProgress: (done) => seen.push(done) });
  assert.deepEqual(seen, [128, 256, 300]);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(gptqQuantize(w, rows, cols, [x], {}, { signal: controller.signal }), /cancelled/);
});

test('the one-layer API damps as the reference fasterquant does unless told otherwise', async () => {
  const w = randomMatrix(8, 32, 3);
  const x = correlatedActivations(64, 32, 4);
  assert.equal(REFERENCE_DAMP_PERCENT, 0.01);
  assert.equal((await gptqQuantize(w, 8, 32, [x], { groupSize: 32 })).dampPercent, REFERENCE_DAMP_PERCENT);
  assert.equal((await gptqQuantize(w, 8, 32, [x], { groupSize: 32, dampPercent: 0.1 })).dampPercent, 0.1);
});

test('invalid options are refused with the reason', async () => {
  const w = randomMatrix(2, 8, 1);
  assert.throws(() => gptqQuantize(w, 2, 8, [new Float32Array(8)], { bits: 5 as 4 }), /bits must be 2, 3, 4 or 8/);
  assert.throws(() => gptqQuantize(w, 2, 8, [new Float32Array(8)], { dampPercent: 1.5 }), /damp_percent must be in \(0, 1\)/);
  assert.throws(() => gptqQuantize(w, 2, 8, [new Float32Array(7)]), /not a multiple of cols 8/);
});
