// The simple quantizers against independent TypeScript computations of the upstream rules:
// RTN (GPTQ's min/max → scale/zero), bitsandbytes NF4/FP4 blockwise with double quant, LLM.int8.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { Bnb4Result, GroupResult, Int8Result, bnbCodeTables, dequantize, quantize, quantizerNames } from '../../native/lib/quant';

const f = Math.fround;

/** torch.round: half to even; integers, so −0 becomes 0. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/** bitsandbytes' create_dynamic_map(signed=True): per decade 10^(i−6), the midpoints of a float32
 *  linspace(0.1, 1) grid of 2^i + 1 points, mirrored, plus 0 and 1, sorted. torch's CPU linspace
 *  counts up from the start for the first half and down from the end for the rest, each value rounded
 *  once (exact in double, then fround). */
function referenceDynamicMap(): number[] {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const steps = 2 ** i + 1;
    const step = f((1 - f(0.1)) / (steps - 1));
    const bounds = Array.from({ length: steps }, (_, k) =>
      k < Math.floor(steps / 2) ? f(f(0.1) + step * k) : f(1 - step * (steps - k - 1)),
    );
    const decade = f(10 ** (i - 6));
    for (let k = 0; k + 1 < steps; k++) {
      const mean = f(f(bounds[k] + bounds[k + 1]) / 2);
      data.push(f(decade * mean), -f(decade * mean));
    }
  }
  data.push(0, 1);
  return data.sort((a, b) => a - b);
}

/** Deterministic weights in roughly [-scale, scale]. */
function weights(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** GPTQ's quantizer.find_params + quantize for one row of one group, in fp32 like torch. */
function referenceGroup(values: number[], bits: number, sym: boolean): { scale: number; zero: number; q: number[] } {
  const maxq = 2 ** bits - 1;
  let xmin = Math.min(Math.min(...values), 0);
  let xmax = Math.max(Math.max(...values), 0);
  if (sym) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) {
    xmin = -1;
    xmax = 1;
  }
  const scale = f(f(xmax - xmin) / maxq);
  const zero = sym ? (maxq + 1) / 2 : roundHalfEven(f(-xmin / scale));
  const q = values.map((x) => Math.min(maxq, Math.max(0, roundHalfEven(f(x / scale)) + zero)));
  return { scale, zero, q };
}

test('the registry names its quantizers', () => {
  assert.deepEqual(quantizerNames(), ['rtn', 'nf4', 'fp4', 'int8']);
});

test("RTN matches GPTQ's scale/zero rule for every bit width, sym and asym, grouped and per channel", async () => {
  const rows = 3;
  const cols = 16;
  const w = weights(rows * cols, 7, 2);
  w[5] = 0; // exact zero and an all-positive row exercise the range widening to include 0
  for (let c = 0; c < cols; c++) w[2 * cols + c] = Math.abs(w[2 * cols + c]);
  for (const bits of [2, 3, 4, 8]) {
    for (const sym of [true, false]) {
      for (const groupSize of [4, -1]) {
        const r = (await quantize('rtn', w, rows, cols, { bits, sym, groupSize })) as GroupResult;
        const g = groupSize > 0 ? groupSize : cols;
        assert.equal(r.kind, 'group');
        assert.equal(r.groupSize, g);
        assert.deepEqual(
          Array.from(r.gIdx),
          Array.from({ length: cols }, (_, c) => Math.floor(c / g)),
        );
        for (let row = 0; row < rows; row++) {
          for (let group = 0; group < cols / g; group++) {
            const values = Array.from(w.subarray(row * cols + group * g, row * cols + (group + 1) * g));
            const ref = referenceGroup(values, bits, sym);
            const label = `bits ${bits} sym ${sym} group ${groupSize} row ${row} group ${group}`;
            assert.equal(r.scales[group * rows + row], ref.scale, label);
            assert.equal(r.zeros[group * rows + row], ref.zero, label);
            assert.deepEqual(Array.from(r.q.subarray(row * cols + group * g, row * cols + (group + 1) * g)), ref.q, label);
          }
        }
      }
    }
  }
});

test('RTN on a hand-checked 1×4 row: asym 2-bit', async () => {
  // min −1, max 2: scale (2 − (−1)) / 3 = 1, zero round(1 / 1) = 1; q = round(x) + 1.
  const r = (await quantize('rtn', new Float32Array([-1, 0, 0.5, 2]), 1, 4, { bits: 2, sym: false, groupSize: -1 })) as GroupResult;
  assert.deepEqual([r.scales[0], r.zeros[0], ...r.q], [1, 1, 0, 1, 1, 3]);
  assert.deepEqual(Array.from(dequantize(r)), [-1, 0, 0, 2]);
});

test('bad weights and options are errors naming the tensor', async () => {
  const w = weights(8, 3);
  w[6] = NaN;
  const name = 'model.layers.0.mlp.down_proj.weight';
  for (const method of ['rtn', 'nf4', 'int8'] as const) {
    await assert.rejects(quantize(method, w, 2, 4, { groupSize: -1 }, { tensorName: name }), {
      message: `tensor "${name}": element [1, 2] is NaN; the weights are corrupt, quantize a finite checkpoint`,
    });
  }
  w[6] = Infinity;
  await assert.rejects(quantize('rtn', w, 2, 4, { groupSize: -1 }, { tensorName: name }), {
    message: `tensor "${name}": element [1, 2] is Inf; the weights are corrupt, quantize a finite checkpoint`,
  });
  await assert.rejects(quantize('rtn', weights(24, 1), 2, 12, { groupSize: 8 }, { tensorName: name }), {
    message: `tensor "${name}": in_features 12 is not divisible by group_size 8; choose a group size that divides it or -1`,
  });
  await assert.rejects(quantize('rtn', weights(8, 1), 2, 4, { bits: 5 }, { tensorName: name }), {
    message: `tensor "${name}": bits 5 is not supported; use 2, 3, 4 or 8`,
  });
});

test('NF4 and FP4 code tables are the published ones; the 8-bit dynamic map follows create_dynamic_map', () => {
  const tables = bnbCodeTables();
  // QLoRA (Dettmers et al. 2023), appendix E, as bitsandbytes ships it.
  const nf4 = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
    0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0,
  ];
  assert.deepEqual(Array.from(tables.nf4), nf4.map(f));
  const fp4 = [0, 0.0625, 8, 12, 4, 6, 2, 3, -0, -0.0625, -8, -12, -4, -6, -2, -3].map((v) => f(v / 12));
  assert.deepEqual(Array.from(tables.fp4), fp4);
  assert.deepEqual(Array.from(tables.dynamic8), referenceDynamicMap());
});

/** bitsandbytes 0.50's 4-bit rule: codes sorted by value (ties by index: FP4's +0 before −0), float midpoints between
 *  neighbours, a value takes the bucket of the midpoints strictly below it; full blocks multiply by the
 *  reciprocal absmax, a trailing partial block divides. */
function reference4bit(x: Float32Array, blocksize: number, code: Float32Array): { absmax: number[]; codes: number[] } {
  const order = Array.from(code.keys()).sort((a, b) => code[a] - code[b] || a - b);
  const bounds = order.slice(0, -1).map((c, i) => f(f(code[c] + code[order[i + 1]]) / 2));
  const absmax: number[] = [];
  const codes: number[] = [];
  for (let b = 0; b < x.length; b += blocksize) {
    const block = Array.from(x.subarray(b, b + blocksize));
    const m = Math.max(f(1e-38), ...block.map(Math.abs));
    const partial = block.length < blocksize;
    absmax.push(partial ? m : Math.max(...block.map(Math.abs)));
    for (const v of block) {
      const scaled = Math.min(1, Math.max(-1, partial ? f(v / m) : f(v * f(1 / m))));
      codes.push(order[bounds.filter((t) => t < scaled).length]);
    }
  }
  return { absmax, codes };
}

/** bitsandbytes' blockwise 8-bit rule for the nested absmax: reciprocal scaling, the nearest code. */
function referenceNearest(x: Float32Array, blocksize: number, code: Float32Array): { absmax: number[]; codes: number[] } {
  const absmax: number[] = [];
  const codes: number[] = [];
  for (let b = 0; b < x.length; b += blocksize) {
    const block = Array.from(x.subarray(b, b + blocksize));
    const m = Math.max(...block.map(Math.abs));
    absmax.push(m);
    const inv = f(1 / m);
    for (const v of block) {
      const scaled = Math.min(1, Math.max(-1, f(v * inv)));
      let best = 0;
      for (let i = 1; i < code.length; i++) if (Math.abs(f(scaled - code[i])) < Math.abs(f(scaled - code[best]))) best = i;
      codes.push(best);
    }
  }
  return { absmax, codes };
}

test("NF4 / FP4 blockwise quantization, packing and double quant match bitsandbytes' rules", async () => {
  const rows = 9;
  const cols = 101; // 909 values: 14 full blocks of 64, a partial one, and an odd count (padded)
  const w = weights(rows * cols, 11, 0.05);
  w.fill(0, 64, 128); // an all-zero block
  const tables = bnbCodeTables();
  for (const type of ['nf4', 'fp4'] as const) {
    const code = tables[type];
    const ref = reference4bit(w, 64, code);
    const padded = [...ref.codes, reference4bit(new Float32Array([0]), 64, code).codes[0]];
    const packed = new Uint8Array((w.length + 1) / 2);
    for (let i = 0; i < padded.length; i++) packed[i >> 1] |= i % 2 === 0 ? padded[i] << 4 : padded[i];
    const plain = (await quantize(type, w, rows, cols)) as Bnb4Result;
    assert.equal(plain.kind, 'bnb4');
    assert.deepEqual(plain.shape, [rows, cols]);
    assert.deepEqual(Array.from(plain.packed), Array.from(packed), type);
    assert.deepEqual(Array.from(plain.absmax ?? []), ref.absmax.map(f), type);
    const deq = dequantize(plain);
    for (let i = 0; i < w.length; i++) assert.equal(deq[i], f(code[ref.codes[i]] * f(ref.absmax[Math.floor(i / 64)])));

    const nested = (await quantize(type, w, rows, cols, { doubleQuant: true })) as Bnb4Result;
    assert.deepEqual(Array.from(nested.packed), Array.from(packed));
    const absmax = ref.absmax.map(f);
    const offset = f(absmax.reduce((a, b) => a + b, 0) / absmax.length);
    const centred = new Float32Array(absmax.map((a) => f(a - offset)));
    const second = referenceNearest(centred, 256, tables.dynamic8);
    assert.equal(nested.offset, offset);
    assert.equal(nested.nestedBlocksize, 256);
    assert.deepEqual(Array.from(nested.absmaxCodes ?? []), second.codes);
    assert.deepEqual(Array.from(nested.nestedAbsmax ?? []), second.absmax.map(f));
    assert.equal(nested.absmax, undefined);
  }
});

test('LLM.int8 quantizes rows by their absmax and keeps SCB and the threshold', async () => {
  const rows = 4;
  const cols = 9;
  const w = weights(rows * cols, 5, 3);
  for (let c = 0; c < cols; c++) w[3 * cols + c] = 0; // an all-zero row stays zero
  // Row 1 holds exactly half its absmax: 63.5 with an exact 127/absmax, 63.4999… through the reciprocal.
  for (let c = 0; c < cols; c++) w[cols + c] = f(w[cols + c] * 0.01);
  w[cols] = 0.10205078125;
  w[cols + 1] = 0.051025390625;
  const r = (await quantize('int8', w, rows, cols, { threshold: 4.5 })) as Int8Result;
  assert.equal(r.threshold, 4.5);
  assert.deepEqual([r.q[cols], r.q[cols + 1]], [127, 63]);
  for (let row = 0; row < rows; row++) {
    const values = Array.from(w.subarray(row * cols, (row + 1) * cols));
    const m = Math.max(...values.map(Math.abs));
    assert.equal(r.scb[row], m);
    const factor = f(f(1 / m) * 127); // torch's `127.0 / t` is reciprocal(t) · 127
    const expected = values.map((x) => (m === 0 ? 0 : roundHalfEven(f(x * factor))));
    assert.deepEqual(Array.from(r.q.subarray(row * cols, (row + 1) * cols)), expected, `row ${row}`);
  }
});

test('quantization reports progress and stops with "cancelled" when aborted', async () => {
  const rows = 512;
  const cols = 64;
  const w = weights(rows * cols, 9);
  const progress: Array<[number, number]> = [];
  await quantize('rtn', w, rows, cols, { groupSize: 32 }, { onProgress: (done, total) => progress.push([done, total]) });
  assert.deepEqual(progress[progress.length - 1], [rows, rows]);
  assert.ok(progress.length >= rows / 64);
  const controller = new AbortController();
  controller.abort();
  for (const method of ['rtn', 'nf4', 'int8'] as const) {
    await assert.rejects(quantize(method, w, rows, cols, { groupSize: 32 }, { signal: controller.signal }), { message: 'cancelled' });
  }
});
