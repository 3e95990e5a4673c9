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
import { TensorToWrite, writeSafetensors } from '../../native/lib/io';
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
        name: `gptq ${bits}-bit g64 act-order`, format: 'gptq', loaded: 'gptq', rows, unpack: { bits, groupSize: 64 },
        quantize: (w, r) => actOrderRtn(w, r, cols, bits, 64, 7 + bits),
      },
    ];
  }),
  { name: 'gptq 4-bit per-channel with bias', format: 'gptq', loaded: 'gptq', rows: 96, quantize: rtn(4, -1), unpack: { bits: 4, groupSize: -1 }, bias: true },
  { name: 'awq gemm g64', format: 'awq-gemm', loaded: 'awq-gemm', rows: 104, quantize: rtn(4, 64), unpack: { groupSize: 64 } },
  { name: 'awq gemv g64', format: 'awq-gemv', loaded: 'awq-gemv', rows: 104, quantize: rtn(4, 64), unpack: { groupSize: 64 } },
  // 2 groups in one padded zeros word: the loader must tell g128 from g256 by the padding.
  { name: 'awq gemv g128', format: 'awq-gemv', loaded: 'awq-gemv', rows: 96, quantize: rtn(4, 128), unpack: { groupSize: 128 } },
  ...(['nf4', 'fp4'] as const).flatMap((type): Case[] => [false, true].map((doubleQuant) => ({
    name: `bnb ${type}${doubleQuant ? ' double quant' : ''}`, format: 'bnb4' as FormatName, loaded: 'bnb4', rows: 104,
    quantize: (w: Float32Array, rows: number) => quantize(type, w, rows, cols, { blocksize: 64, doubleQuant }),
  }))),
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
  writeSafetensors(missing, g64.filter((t) => !t.name.endsWith('.qzeros')));
  assert.throws(() => qlinearForward(missing, prefix, x, 1, 'fast'), /"model\.layers\.0\.mlp\.up_proj\.qzeros" is missing/);

  const mixed = path.join(tmp, 'mixed-groups.safetensors');
  writeSafetensors(mixed, g64.map((t) => (t.name.endsWith('.qzeros') ? g128.find((u) => u.name === t.name) as TensorToWrite : t)));
  assert.throws(() => qlinearForward(mixed, prefix, x, 1, 'fast'), /"model\.layers\.0\.mlp\.up_proj\.qzeros" has shape \[2, 8\] but \[4, 8\]/);
});

test('GPTQ checkpoints without g_idx load with groups in column order (bits and group size from the shapes)', async () => {
  for (const bits of [3, 4]) {
    const rows = 96;
    const w = randomMatrix(rows * cols, 0.05, 200 + bits);
    const tensors = packLayer('gptq', prefix, await quantize('rtn', w, rows, cols, { bits, groupSize: 64, sym: false }));
    const withIdx = path.join(tmp, `with-g-idx-${bits}.safetensors`);
    const withoutIdx = path.join(tmp, `without-g-idx-${bits}.safetensors`);
    writeSafetensors(withIdx, tensors);
    writeSafetensors(withoutIdx, tensors.filter((t) => !t.name.endsWith('.g_idx')));
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
