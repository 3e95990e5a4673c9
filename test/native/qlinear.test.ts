// Fused dequantize-multiply layers: for every checkpoint format and bit width, the layer the runtime
// loads from the packed tensors computes x·Ŵᵀ, where Ŵ is what the format's unpacker and the quantizer's
// dequantize reconstruct independently; the kernels at every SIMD level this CPU runs (AVX-512, AVX2,
// scalar) and the element-wise reference agree; and damaged tensors are named in the error.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { FormatName, packLayer, unpackLayer } from '../../native/lib/formats';
import { TensorToWrite, bf16ToF32, f16ToF32, f32ToF16, writeSafetensors } from '../../native/lib/io';
import { QuantResult, dequantize, quantize } from '../../native/lib/quant';
import { actOrderRtn, matmulF64, qlinearForward, randomMatrix, relativeError } from './qlinearFixtures';
import { simdLevels } from './simdLevels';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-qlinear-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const prefix = 'model.layers.0.mlp.up_proj';
const cols = 256;

interface Case {
  name: string;
  format: FormatName;
  /** The format name the runtime reports. */
  loaded: string;
  rows: number;
  quantize: (w: Float32Array, rows: number) => Promise<QuantResult>;
  unpack?: { bits?: number; groupSize?: number };
  bias?: boolean;
}

const rtn = (bits: number, groupSize: number) => async (w: Float32Array, rows: number) =>
  quantize('rtn', w, rows, cols, { bits, groupSize, sym: false });

// Row counts leave a partial 16-row panel where the format allows it (the scalar tail path).
const cases: Case[] = [
  ...[2, 3, 4, 8].flatMap((bits): Case[] => {
    const rows = { 2: 112, 3: 96, 4: 104, 8: 100 }[bits] as number;
    return [
      { name: `gptq ${bits}-bit g64`, format: 'gptq', loaded: 'gptq', rows, quantize: rtn(bits, 64), unpack: { bits, groupSize: 64 } },
      {
        name: `gptq ${bits}-bit g64 act-order`,
        format: 'gptq',
        loaded: 'gptq',
        rows,
        unpack: { bits, groupSize: 64 },
        quantize: (w, r) => actOrderRtn(w, r, cols, bits, 64, 7 + bits),
      },
    ];
  }),
  {
    name: 'gptq 4-bit per-channel with bias',
    format: 'gptq',
    loaded: 'gptq',
    rows: 96,
    quantize: rtn(4, -1),
    unpack: { bits: 4, groupSize: -1 },
    bias: true,
  },
  { name: 'awq gemm g64', format: 'awq-gemm', loaded: 'awq-gemm', rows: 104, quantize: rtn(4, 64), unpack: { groupSize: 64 } },
  // Wide enough that decode splits the outputs into ranges of several 128-output blocks, the last one partial.
  { name: 'awq gemm g64 wide', format: 'awq-gemm', loaded: 'awq-gemm', rows: 2152, quantize: rtn(4, 64), unpack: { groupSize: 64 } },
  { name: 'awq gemv g64', format: 'awq-gemv', loaded: 'awq-gemv', rows: 104, quantize: rtn(4, 64), unpack: { groupSize: 64 } },
  // 2 groups in one padded zeros word: the loader must tell g128 from g256 by the padding.
  { name: 'awq gemv g128', format: 'awq-gemv', loaded: 'awq-gemv', rows: 96, quantize: rtn(4, 128), unpack: { groupSize: 128 } },
  ...(['nf4', 'fp4'] as const).flatMap((type): Case[] =>
    [false, true].map((doubleQuant) => ({
      name: `bnb ${type}${doubleQuant ? ' double quant' : ''}`,
      format: 'bnb4' as FormatName,
      loaded: 'bnb4',
      rows: 104,
      quantize: (w: Float32Array, rows: number) => quantize(type, w, rows, cols, { blocksize: 64, doubleQuant }),
    })),
  ),
  { name: 'bnb int8', format: 'bnb8', loaded: 'bnb8', rows: 104, quantize: (w, rows) => quantize('int8', w, rows, cols) },
];

let seed = 1;
for (const c of cases) {
  test(`${c.name}: fused kernels equal x·Ŵᵀ from the unpacked weights, for m = 1 and m = 7`, async () => {
    const w = randomMatrix(c.rows * cols, 0.05, seed++);
    const tensors: TensorToWrite[] = packLayer(c.format, prefix, await c.quantize(w, c.rows));
    const bias = c.bias ? randomMatrix(c.rows, 0.5, seed++) : undefined;
    if (bias) tensors.push({ name: `${prefix}.bias`, dtype: 'F32', shape: [c.rows], data: bias });
    const file = path.join(tmp, `${c.name.replace(/\W+/g, '-')}.safetensors`);
    writeSafetensors(file, tensors);
    const wHat = dequantize(unpackLayer(c.format, file, prefix, c.unpack ?? {}));

    for (const m of [1, 7]) {
      const x = randomMatrix(m * cols, 1, seed++);
      const expected = matmulF64(x, m, wHat, c.rows, cols, bias).y;
      const fast = qlinearForward(file, prefix, x, m, 'fast');
      assert.deepEqual([fast.format, fast.inFeatures, fast.outFeatures], [c.loaded, cols, c.rows]);
      const reference = qlinearForward(file, prefix, x, m, 'reference').y;
      assert.ok(relativeError(reference, expected) < 1e-4, `m=${m} reference: ${relativeError(reference, expected)}`);
      assert.ok(relativeError(fast.y, expected) < 1e-4, `m=${m} fast: ${relativeError(fast.y, expected)}`);
      // Same products, summed in another order: float rounding only.
      for (const level of simdLevels) {
        const y = qlinearForward(file, prefix, x, m, level).y;
        assert.ok(relativeError(y, reference) < 1e-5, `m=${m} ${level} vs reference: ${relativeError(y, reference)}`);
      }
    }
  });
}

test('a GPTQ layer with a missing or mis-shaped tensor is refused, naming the tensor', async () => {
  const w = randomMatrix(64 * cols, 0.05, 99);
  const g64 = packLayer('gptq', prefix, await quantize('rtn', w, 64, cols, { bits: 4, groupSize: 64 }));
  const g128 = packLayer('gptq', prefix, await quantize('rtn', w, 64, cols, { bits: 4, groupSize: 128 }));
  const x = randomMatrix(cols, 1, 100);

  const missing = path.join(tmp, 'missing-qzeros.safetensors');
  writeSafetensors(
    missing,
    g64.filter((t) => !t.name.endsWith('.qzeros')),
  );
  assert.throws(() => qlinearForward(missing, prefix, x, 1, 'fast'), /"model\.layers\.0\.mlp\.up_proj\.qzeros" is missing/);

  const mixed = path.join(tmp, 'mixed-groups.safetensors');
  writeSafetensors(
    mixed,
    g64.map((t) => (t.name.endsWith('.qzeros') ? (g128.find((u) => u.name === t.name) as TensorToWrite) : t)),
  );
  assert.throws(
    () => qlinearForward(mixed, prefix, x, 1, 'fast'),
    /"model\.layers\.0\.mlp\.up_proj\.qzeros" has shape \[2, 8\] but \[4, 8\]/,
  );
});

test('GPTQ checkpoints without g_idx load with groups in column order (bits and group size from the shapes)', async () => {
  for (const bits of [3, 4]) {
    const rows = 96;
    const w = randomMatrix(rows * cols, 0.05, 200 + bits);
    const tensors = packLayer('gptq', prefix, await quantize('rtn', w, rows, cols, { bits, groupSize: 64, sym: false }));
    const withIdx = path.join(tmp, `with-g-idx-${bits}.safetensors`);
    const withoutIdx = path.join(tmp, `without-g-idx-${bits}.safetensors`);
    writeSafetensors(withIdx, tensors);
    writeSafetensors(
      withoutIdx,
      tensors.filter((t) => !t.name.endsWith('.g_idx')),
    );
    const wHat = dequantize(unpackLayer('gptq', withIdx, prefix, { bits, groupSize: 64 }));
    for (const m of [1, 7]) {
      const x = randomMatrix(m * cols, 1, 300 + m);
      const expected = matmulF64(x, m, wHat, rows, cols).y;
      const loaded = qlinearForward(withoutIdx, prefix, x, m, 'fast');
      assert.equal(loaded.format, 'gptq');
      assert.ok(relativeError(loaded.y, expected) < 1e-4, `${bits}-bit m=${m}: ${relativeError(loaded.y, expected)}`);
      const reference = qlinearForward(withoutIdx, prefix, x, m, 'reference').y;
      assert.ok(relativeError(reference, expected) < 1e-4, `${bits}-bit m=${m} reference`);
    }
  }
});

/** fp32 → bf16 bits, round to nearest even (values here are finite). */
function toBf16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return Uint16Array.from(u, (x) => (x + 0x7fff + ((x >>> 16) & 1)) >>> 16);
}

// GPTQModel 7.x writes a bf16 model's GPTQ and AWQ scales in bf16 (and fp32 models' in fp32); AutoGPTQ and AutoAWQ
// wrote fp16. The layer must compute with exactly the stored scales: a bf16 scale is exact in fp16 (8 significant
// bits of 11, inside fp16's normal range here), so a file holding the same values as fp16 must give identical outputs.
for (const format of ['gptq', 'awq-gemm'] as const) {
  test(`${format} layers take bf16 and fp32 scales, computing with exactly the stored values`, async () => {
    const rows = 96;
    const w = randomMatrix(rows * cols, 0.05, 400);
    const tensors = packLayer(format, prefix, await quantize('rtn', w, rows, cols, { bits: 4, groupSize: 64, sym: false }));
    const scales = tensors.find((t) => t.name === `${prefix}.scales`) as TensorToWrite;
    const bf16 = toBf16(f16ToF32(scales.data as Uint16Array));
    const variants: Array<[string, TensorToWrite]> = [
      ['bf16', { ...scales, dtype: 'BF16', data: bf16 }],
      ['bf16-as-f16', { ...scales, dtype: 'F16', data: f32ToF16(bf16ToF32(bf16)) }],
      ['f32', { ...scales, dtype: 'F32', data: f16ToF32(scales.data as Uint16Array) }],
      ['f16', scales],
    ];
    const y: Record<string, Float32Array> = {};
    const x = randomMatrix(3 * cols, 1, 401);
    for (const [name, s] of variants) {
      const file = path.join(tmp, `${format}-scales-${name}.safetensors`);
      writeSafetensors(
        file,
        tensors.map((t) => (t.name === s.name ? s : t)),
      );
      for (const mode of ['reference', ...simdLevels] as const) {
        const r = qlinearForward(file, prefix, x, 3, mode);
        assert.equal(r.format, format);
        y[`${name} ${mode}`] = r.y;
      }
    }
    for (const mode of ['reference', ...simdLevels]) {
      assert.deepEqual(Array.from(y[`bf16 ${mode}`]), Array.from(y[`bf16-as-f16 ${mode}`]), `bf16 scales, ${mode}`);
      assert.deepEqual(Array.from(y[`f32 ${mode}`]), Array.from(y[`f16 ${mode}`]), `f32 scales, ${mode}`);
    }
    assert.notDeepEqual(Array.from(y['bf16 reference']), Array.from(y['f16 reference']), 'bf16 rounding changes the scales');
  });
}

test('scales stored as an integer type are refused, naming the tensor', async () => {
  const tensors = packLayer(
    'gptq',
    prefix,
    await quantize('rtn', randomMatrix(64 * cols, 0.05, 402), 64, cols, { bits: 4, groupSize: 64 }),
  );
  const file = path.join(tmp, 'scales-i32.safetensors');
  const asInt = (t: TensorToWrite): TensorToWrite => ({
    ...t,
    dtype: 'I32',
    shape: [t.shape[0], t.shape[1] / 2],
    data: new Int32Array((t.data as Uint16Array).buffer.slice(0)),
  });
  writeSafetensors(
    file,
    tensors.map((t) => (t.name.endsWith('.scales') ? asInt(t) : t)),
  );
  assert.throws(
    () => qlinearForward(file, prefix, randomMatrix(cols, 1, 403), 1, 'fast'),
    /"model\.layers\.0\.mlp\.up_proj\.scales" is I32 but scales are stored as F16, BF16 or F32/,
  );
});
