import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { runtimeAddon } from '../../native/lib/runtime';
import { maxAbsDiff, randomFloats } from './runtime-fixtures';
import { atSimdLevel, simdLevels } from './simdLevels';

const addon = runtimeAddon();

/** fp32 → IEEE half bits (round to nearest even), for building fp16 weights. */
function toHalfBits(values: Float32Array): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from(values, (v) => {
    f[0] = v;
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp <= 0) return sign; // test values stay well inside the normal range
    const rounded = (exp << 10) + (mant >>> 13) + ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) === 0x1000 && mant & 0x2000) ? 1 : 0);
    return sign | rounded;
  });
}

/** IEEE half bits → the number they hold (normal and subnormal halves; test values have no Inf or NaN). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  return sign * (exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15));
}

function toBf16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer.slice(0));
  return Uint16Array.from(u, (x) => (x + 0x7fff + ((x >>> 16) & 1)) >>> 16);
}

// Shapes cover the SIMD tails: m not a multiple of the row blocks (AVX2: 6; AVX-512: 14, 12, 8 or 6 rows for
// 1 to 4 panels side by side), n not a multiple of the 16-column panel or the 64-column panel group, k not a
// multiple of 8 or 16 and longer than one pass (AVX-512: 512 / panels inputs), and m = 1 (the GEMV path).
const shapes = [
  { m: 1, n: 37, k: 19 },
  { m: 1, n: 256, k: 256 },
  { m: 7, n: 33, k: 29 },
  { m: 64, n: 128, k: 96 },
  { m: 13, n: 16, k: 8 },
  { m: 29, n: 40, k: 37 },
  { m: 14, n: 48, k: 16 },
  { m: 9, n: 100, k: 300 },
  { m: 20, n: 70, k: 520 },
  { m: 25, n: 200, k: 129 },
];

for (const level of simdLevels)
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    test(`matmul ${dtype} at ${level}: fast kernel = scalar reference (GEMV and GEMM, with and without bias)`, () =>
      atSimdLevel(level, () => {
        for (const { m, n, k } of shapes) {
          const x = randomFloats(m * k, m * 1000 + k);
          const w32 = randomFloats(n * k, n * 7 + 1);
          const w = dtype === 'F32' ? w32 : dtype === 'F16' ? toHalfBits(w32) : toBf16Bits(w32);
          for (const bias of [null, randomFloats(n, 99)]) {
            const fast = addon.kernelsMatMul(x, m, w, dtype, n, k, bias, false);
            const ref = addon.kernelsMatMul(x, m, w, dtype, n, k, bias, true);
            assert.equal(fast.length, m * n);
            const err = maxAbsDiff(fast, ref);
            assert.ok(err < 1e-4 * Math.sqrt(k), `${dtype} m=${m} n=${n} k=${k} bias=${bias !== null}: ${err}`);
          }
        }
      }));
  }

// AᵀB read in place (the Hessian's XᵀX): A [k × lda], B [k × ldb], the product's m × n corner.
const transposedShapes = [
  { m: 256, n: 300, k: 512, lda: 300, ldb: 300 },
  { m: 7, n: 70, k: 129, lda: 9, ldb: 80 },
  { m: 1, n: 33, k: 20, lda: 4, ldb: 40 },
  { m: 20, n: 16, k: 600, lda: 20, ldb: 16 },
];

for (const level of simdLevels)
  test(`matmul AᵀB at ${level}: equals x·Wᵀ on the transposes (bit for bit at every level but m = 1) and the sums in double`, () =>
    atSimdLevel(level, () => {
      for (const { m, n, k, lda, ldb } of transposedShapes) {
        const a = randomFloats(k * lda, m * 31 + k);
        const b = randomFloats(k * ldb, n * 17 + k);
        const y = addon.kernelsMatMulTransposedA(a, lda, m, b, ldb, n, k);
        const at = new Float32Array(m * k),
          bt = new Float32Array(n * k);
        for (let t = 0; t < k; t++) {
          for (let i = 0; i < m; i++) at[i * k + t] = a[t * lda + i];
          for (let j = 0; j < n; j++) bt[j * k + t] = b[t * ldb + j];
        }
        const viaMatMul = addon.kernelsMatMul(at, m, bt, 'F32', n, k, null, false);
        if (m > 1) assert.deepEqual(Array.from(y), Array.from(viaMatMul), `m=${m} n=${n} k=${k}`);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let t = 0; t < k; t++) sum += a[t * lda + i] * b[t * ldb + j];
            assert.ok(Math.abs(y[i * n + j] - sum) < 1e-4 * Math.sqrt(k), `m=${m} n=${n} k=${k} (${i}, ${j})`);
          }
      }
    }));

test('matmul reference computes x·Wᵀ + b (a hand-checked 2×3 case)', () => {
  const x = Float32Array.from([1, 2, 3, 4]); // [2, 2]
  const w = Float32Array.from([1, 0, 0, 1, 1, 1]); // [3, 2]
  const b = Float32Array.from([0.5, 0, -1]);
  for (const reference of [true, false]) {
    assert.deepEqual(Array.from(addon.kernelsMatMul(x, 2, w, 'F32', 3, 2, b, reference)), [1.5, 2, 2, 3.5, 4, 6]);
  }
});

test('matmul rejects buffers that do not match the shape', () => {
  assert.throws(() => addon.kernelsMatMul(new Float32Array(6), 2, new Float32Array(6), 'F32', 3, 2, null, false), /x must hold m×k floats/);
});

for (const level of simdLevels) {
  test(`attention: fast kernel = scalar reference, GQA and MQA, prefill and decode positions, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const { heads, kvHeads, headDim, m, pos0 } of [
        { heads: 8, kvHeads: 4, headDim: 32, m: 20, pos0: 0 },
        { heads: 8, kvHeads: 1, headDim: 16, m: 1, pos0: 30 },
        { heads: 4, kvHeads: 4, headDim: 12, m: 5, pos0: 7 },
      ]) {
        const capacity = pos0 + m + 3;
        const shape = { heads, kvHeads, headDim, capacity };
        const q = randomFloats(m * heads * headDim, heads + m);
        const kc = randomFloats(kvHeads * capacity * headDim, 3);
        const vc = randomFloats(kvHeads * capacity * headDim, 4);
        const scale = 1 / Math.sqrt(headDim);
        const fast = addon.kernelsAttention(q, m, pos0, kc, vc, shape, scale, false);
        const ref = addon.kernelsAttention(q, m, pos0, kc, vc, shape, scale, true);
        assert.ok(maxAbsDiff(fast, ref) < 1e-5, `heads=${heads} kv=${kvHeads} m=${m} pos0=${pos0}`);
      }
    }));
}

/** The fast kernel against the scalar reference, with NaN in every cache slot past pos0 + m: a kernel that
 *  reads a position no query may see turns the output into NaN and fails the comparison. */
function assertAttentionMatchesReference(
  heads: number,
  kvHeads: number,
  headDim: number,
  m: number,
  pos0: number,
  window = 0,
  cache: 'fp32' | 'fp16' = 'fp32',
): void {
  const capacity = pos0 + m + 5;
  const shape = { heads, kvHeads, headDim, capacity, window };
  const q = randomFloats(m * heads * headDim, 11 * m + pos0).map((x) => 3 * x); // peaked softmax rows too
  const k32 = randomFloats(kvHeads * capacity * headDim, 12 + pos0);
  const v32 = randomFloats(kvHeads * capacity * headDim, 13 + pos0);
  const [kc, vc] = cache === 'fp16' ? [toHalfBits(k32), toHalfBits(v32)] : [k32, v32];
  const nan = cache === 'fp16' ? 0x7e00 : NaN;
  for (let g = 0; g < kvHeads; g++) {
    const unseen = (g * capacity + pos0 + m) * headDim;
    kc.fill(nan, unseen, (g + 1) * capacity * headDim);
    vc.fill(nan, unseen, (g + 1) * capacity * headDim);
  }
  const scale = 1 / Math.sqrt(headDim);
  const fast = addon.kernelsAttention(q, m, pos0, kc, vc, shape, scale, false);
  const ref = addon.kernelsAttention(q, m, pos0, kc, vc, shape, scale, true);
  assert.equal(fast.length, m * heads * headDim);
  const err = maxAbsDiff(fast, ref);
  const label = `${cache} heads=${heads} kv=${kvHeads} headDim=${headDim} m=${m} pos0=${pos0} window=${window}`;
  assert.ok(err < 1e-5, `${label}: ${err}`);
}

for (const level of simdLevels) {
  test(`attention decode shapes (a few query rows, long cache) = scalar reference, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const headDim of [32, 64]) {
        for (const pos0 of [0, 1, 511]) assertAttentionMatchesReference(8, 4, headDim, 1, pos0);
        for (const pos0 of [0, 7, 509]) assertAttentionMatchesReference(8, 4, headDim, 3, pos0);
      }
      assertAttentionMatchesReference(8, 1, 64, 3, 100); // MQA: one kv head feeds tiles of several query heads
      assertAttentionMatchesReference(4, 4, 128, 2, 300); // no GQA, wide heads
      assertAttentionMatchesReference(8, 4, 40, 1, 61); // headDim not a multiple of 16
      assertAttentionMatchesReference(8, 4, 12, 3, 20); // headDim not a multiple of 8: the portable loops
    }));
}

for (const level of simdLevels) {
  test(`attention around the decode/prefill switch (16 and 17 query rows) = scalar reference, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const m of [8, 15, 16, 17]) assertAttentionMatchesReference(8, 4, 32, m, 40);
      assertAttentionMatchesReference(8, 2, 64, 64, 0);
    }));
}

for (const level of simdLevels) {
  test(`attention over an fp16 cache (decode tiles, prefill matmuls, portable loops, window) = scalar reference, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const pos0 of [0, 1, 511]) assertAttentionMatchesReference(8, 4, 64, 1, pos0, 0, 'fp16');
      assertAttentionMatchesReference(8, 4, 32, 3, 509, 0, 'fp16');
      assertAttentionMatchesReference(8, 1, 64, 3, 100, 0, 'fp16'); // MQA
      assertAttentionMatchesReference(4, 4, 128, 2, 300, 0, 'fp16'); // wide heads
      assertAttentionMatchesReference(8, 4, 12, 3, 20, 0, 'fp16'); // headDim not a multiple of 8
      assertAttentionMatchesReference(8, 2, 64, 64, 0, 0, 'fp16'); // prefill: the matmul path
      assertAttentionMatchesReference(4, 4, 12, 20, 30, 0, 'fp16'); // prefill on a cache, portable transposes
      assertAttentionMatchesReference(8, 4, 32, 1, 100, 16, 'fp16'); // sliding window
    }));
}

test('attention over an fp16 cache is attention over its values widened to fp32, bit for bit', () => {
  const heads = 8,
    kvHeads = 4,
    headDim = 32,
    m = 3,
    pos0 = 40,
    capacity = pos0 + m;
  const shape = { heads, kvHeads, headDim, capacity };
  const q = randomFloats(m * heads * headDim, 5);
  const k16 = toHalfBits(randomFloats(kvHeads * capacity * headDim, 6));
  const v16 = toHalfBits(randomFloats(kvHeads * capacity * headDim, 7));
  const widen = (bits: Uint16Array): Float32Array => Float32Array.from(bits, halfToNumber);
  for (const reference of [true, false]) {
    const halves = addon.kernelsAttention(q, m, pos0, k16, v16, shape, 0.25, reference);
    const widened = addon.kernelsAttention(q, m, pos0, widen(k16), widen(v16), shape, 0.25, reference);
    assert.deepEqual(Array.from(halves), Array.from(widened), `reference=${reference}`);
  }
  assert.throws(() => addon.kernelsAttention(q, m, pos0, k16, widen(v16), shape, 0.25, true), /vCache must be a Uint16Array/);
});

test('attention is causal: the first query only sees the first position (output = its value row)', () => {
  const shape = { heads: 2, kvHeads: 1, headDim: 4, capacity: 3 };
  const q = randomFloats(3 * 2 * 4, 5);
  const kc = randomFloats(3 * 4, 6);
  const vc = randomFloats(3 * 4, 7);
  for (const reference of [true, false]) {
    const out = addon.kernelsAttention(q, 3, 0, kc, vc, shape, 0.5, reference);
    assert.ok(maxAbsDiff(out.subarray(0, 4), vc.subarray(0, 4)) < 1e-6);
    assert.ok(maxAbsDiff(out.subarray(4, 8), vc.subarray(0, 4)) < 1e-6);
  }
});

for (const level of simdLevels) {
  test(`softmax and NLL: fast (vector exp) = scalar reference, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const n of [1, 7, 64, 1000, 4099]) {
        const x = randomFloats(n, n).map((v) => v * 30);
        const fast = addon.kernelsSoftmax(x, false);
        const ref = addon.kernelsSoftmax(x, true);
        assert.ok(maxAbsDiff(fast, ref) < 1e-6, `softmax n=${n}`);
        assert.ok(Math.abs(fast.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        const target = n - 1;
        const a = addon.kernelsNll(x, target, false);
        const b = addon.kernelsNll(x, target, true);
        assert.ok(Math.abs(a - b) < 1e-5 * Math.max(1, Math.abs(b)), `nll n=${n}: ${a} vs ${b}`);
      }
    }));
}

for (const level of simdLevels) {
  test(`machine peak: positive FLOP/s and bandwidth on every pool thread, at ${level}`, () =>
    atSimdLevel(level, () => {
      const peak = addon.kernelsMachinePeak(0.05);
      assert.ok(peak.gflops > 0.1 && peak.memcpyGBs > 0.1, JSON.stringify(peak));
      assert.ok(peak.threads >= 1);
      assert.equal(peak.simd, level, 'the peak is measured at the level in force');
    }));
}

test("SIMD levels: the CPU's best runs by default (or QUANTSTUDIO_SIMD's cap), and every level below it is available", () => {
  const simd = addon.kernelsSimd();
  const order = ['scalar', 'avx2', 'avx512'];
  const cap = process.env.QUANTSTUDIO_SIMD || 'avx512';
  assert.equal(simd.active, order[Math.min(order.indexOf(cap), order.indexOf(simd.cpu))]);
  assert.deepEqual(simd.available, ['scalar', 'avx2', 'avx512'].slice(0, simd.available.length));
  assert.equal(simd.available[simd.available.length - 1], simd.cpu);
  // On Linux the CPU's flags say what it has: AVX-512 needs F, BW, DQ and VL; AVX2 needs AVX2, FMA and F16C.
  if (process.platform === 'linux' && process.arch === 'x64') {
    const flags = new Set((fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
    const has = (...names: string[]) => names.every((n) => flags.has(n));
    const expected = has('avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx2', 'fma', 'f16c')
      ? 'avx512'
      : has('avx2', 'fma', 'f16c')
        ? 'avx2'
        : 'scalar';
    assert.equal(simd.cpu, expected);
  }
});

test('QUANTSTUDIO_SIMD caps the level in a fresh process; an unknown value is refused with a message', () => {
  const run = (value: string) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        `
    const { loadAddon } = require(${JSON.stringify(require.resolve('../../native/lib/addon'))});
    try { process.stdout.write(loadAddon().engineInfo().simd); } catch (e) { process.stdout.write('error: ' + e.message); }
  `,
      ],
      { env: { ...process.env, QUANTSTUDIO_SIMD: value }, encoding: 'utf8' },
    );
  const cpu = addon.kernelsSimd().cpu;
  const rank = (l: string) => ['scalar', 'avx2', 'avx512'].indexOf(l);
  for (const level of ['scalar', 'avx2', 'avx512']) {
    assert.equal(run(level).stdout, rank(level) <= rank(cpu) ? level : cpu, `QUANTSTUDIO_SIMD=${level}`);
  }
  assert.equal(run('').stdout, cpu, "empty = the CPU's best");
  assert.equal(
    run('avx512f').stdout,
    'error: QUANTSTUDIO_SIMD must be one of scalar, avx2, avx512 (or unset for the CPU\'s best), got "avx512f"',
  );
});

for (const level of simdLevels) {
  test(`sliding-window attention (decode tiles and prefill) = scalar reference, at ${level}`, () =>
    atSimdLevel(level, () => {
      for (const window of [1, 7, 32]) {
        assertAttentionMatchesReference(8, 4, 32, 1, 100, window); // decode, long past the window
        assertAttentionMatchesReference(8, 4, 32, 3, 5, window); // rows that start inside and past it
        assertAttentionMatchesReference(8, 2, 16, 40, 0, window); // prefill from the start
        assertAttentionMatchesReference(4, 4, 12, 20, 30, window); // prefill on a cache, portable loops
      }
    }));
}

test("sliding-window reference: a window of 1 returns each token's own value row; a window past the sequence changes nothing", () => {
  const shape = { heads: 2, kvHeads: 1, headDim: 4, capacity: 6 };
  const q = randomFloats(6 * 2 * 4, 21),
    kc = randomFloats(6 * 4, 22),
    vc = randomFloats(6 * 4, 23);
  const own = addon.kernelsAttention(q, 6, 0, kc, vc, { ...shape, window: 1 }, 0.5, true);
  for (let i = 0; i < 6; i++) {
    for (let h = 0; h < 2; h++)
      assert.ok(maxAbsDiff(own.subarray((i * 2 + h) * 4, (i * 2 + h + 1) * 4), vc.subarray(i * 4, (i + 1) * 4)) < 1e-6);
  }
  const wide = addon.kernelsAttention(q, 6, 0, kc, vc, { ...shape, window: 6 }, 0.5, true);
  assert.deepEqual(Array.from(wide), Array.from(addon.kernelsAttention(q, 6, 0, kc, vc, shape, 0.5, true)));
});
