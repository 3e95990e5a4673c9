// compressed-tensors pack-quantized Linears as llm-compressor 0.14 wrote them (test/fixtures/upstream-written/
// llmcompressor-*): the runtime's layer computes x·Ŵᵀ with Ŵ decoded here independently from the format's rules
// (compressed-tensors 0.19 pack_to_int32: codes + 2^(bits−1) packed densely along the input, zero points packed
// down the outputs), at every SIMD level and in the element-wise reference; damaged layers are named.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { TensorToWrite, readSafetensorsHeader, readTensor, readTensorFloat32, writeSafetensors } from '../../native/lib/io';
import { matmulF64, qlinearForward, randomMatrix, relativeError } from './qlinearFixtures';
import { repoRoot } from './runtime-fixtures';
import { simdLevels } from './simdLevels';
import { LLAMA_LAYER_LINEARS } from '../helpers/llamaLinears';

const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'upstream-written');
const FOLDERS = ['llmcompressor-w4a16', 'llmcompressor-w4a16-asym', 'llmcompressor-w4a16-channel', 'llmcompressor-w8a16'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-qlinear-ct-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Slot k of a little-endian bit stream whose word i is words[i · stride]. */
function bits(words: Int32Array, stride: number, k: number, width: number): number {
  let v = 0;
  for (let b = 0; b < width; b++) {
    const bit = k * width + b;
    v |= ((words[Math.floor(bit / 32) * stride] >>> (bit % 32)) & 1) << b;
  }
  return v;
}

/** Ŵ [out × in] from the stored tensors, by the format's rules. */
function decode(file: string, prefix: string): { out: number; inFeatures: number; w: Float32Array } {
  const shape = new BigInt64Array(Uint8Array.from(readTensor(file, `${prefix}.weight_shape`).data as Uint8Array).buffer);
  const [out, inFeatures] = [Number(shape[0]), Number(shape[1])];
  const packed = readTensor(file, `${prefix}.weight_packed`);
  const width = (packed.shape[1] * 32) / inFeatures;
  const scale = readTensorFloat32(file, `${prefix}.weight_scale`);
  const groups = scale.shape[1];
  const hasZeros = readSafetensorsHeader(file).tensors.some((t) => t.name === `${prefix}.weight_zero_point`);
  const zeros = hasZeros ? (readTensor(file, `${prefix}.weight_zero_point`).data as Int32Array) : undefined;
  const words = packed.data as Int32Array;
  const w = new Float32Array(out * inFeatures);
  for (let r = 0; r < out; r++) {
    const row = words.subarray(r * packed.shape[1]);
    for (let c = 0; c < inFeatures; c++) {
      const g = Math.floor(c / (inFeatures / groups));
      const zero = zeros ? bits(zeros.subarray(g), groups, r, width) : 2 ** (width - 1);
      w[r * inFeatures + c] = (bits(row, 1, c, width) - zero) * scale.data[r * groups + g];
    }
  }
  return { out, inFeatures, w };
}

for (const folder of FOLDERS) {
  test(`${folder}: every Linear computes x·Ŵᵀ of the stored codes, at every SIMD level and in the reference`, () => {
    const file = path.join(fixturesDir, folder, 'model.safetensors');
    let seed = 11;
    for (const linear of LLAMA_LAYER_LINEARS) {
      const prefix = `model.layers.0.${linear}`;
      const { out, inFeatures, w } = decode(file, prefix);
      for (const m of [1, 7]) {
        const x = randomMatrix(m * inFeatures, 1, seed++);
        const expected = matmulF64(x, m, w, out, inFeatures).y;
        const fast = qlinearForward(file, prefix, x, m, 'fast');
        assert.deepEqual([fast.format, fast.inFeatures, fast.outFeatures], ['ct-pack-quantized', inFeatures, out], prefix);
        const reference = qlinearForward(file, prefix, x, m, 'reference').y;
        assert.ok(relativeError(reference, expected) < 1e-6, `${prefix} m=${m} reference: ${relativeError(reference, expected)}`);
        for (const level of simdLevels) {
          const y = qlinearForward(file, prefix, x, m, level).y;
          assert.ok(relativeError(y, reference) < 1e-5, `${prefix} m=${m} ${level} vs reference: ${relativeError(y, reference)}`);
        }
      }
    }
  });
}

test('a damaged or unsupported pack-quantized layer is refused, naming the tensor', () => {
  const source = path.join(fixturesDir, 'llmcompressor-w4a16', 'model.safetensors');
  const prefix = 'model.layers.0.mlp.down_proj';
  const layer = readSafetensorsHeader(source)
    .tensors.filter((t) => t.name.startsWith(`${prefix}.`))
    .map((t): TensorToWrite => {
      const { dtype, shape, data } = readTensor(source, t.name);
      return { name: t.name, dtype, shape, data };
    });
  const x = randomMatrix(256, 1, 5);
  const variants: [string, TensorToWrite[], string][] = [
    [
      'g_idx',
      [...layer, { name: `${prefix}.weight_g_idx`, dtype: 'I32', shape: [256], data: new Int32Array(256) }],
      `${prefix}.weight_g_idx: compressed-tensors activation ordering (actorder "group") is not supported by the runtime`,
    ],
    [
      'shape',
      layer.map((t) => (t.name.endsWith('weight_shape') ? { ...t, data: new Uint8Array(new BigInt64Array([128n, 200n]).buffer) } : t)),
      `${prefix}.weight_packed: 32 words per row for 200 inputs is not 4 or 8 bits`,
    ],
    [
      'huge shape',
      layer.map((t) => (t.name.endsWith('weight_shape') ? { ...t, data: new Uint8Array(new BigInt64Array([128n, 2n ** 40n]).buffer) } : t)),
      `${prefix}.weight_shape: 1099511627776 inputs do not fit 32 words per row of weight_packed`,
    ],
    [
      'scales',
      layer.map((t) => (t.name.endsWith('weight_scale') ? { ...t, shape: [64, 4] } : t)),
      `${prefix}.weight_scale: shape [64, 4] is not [128, groups] with groups dividing 256 inputs`,
    ],
  ];
  for (const [label, tensors, message] of variants) {
    const file = path.join(tmp, `${label}.safetensors`);
    writeSafetensors(file, tensors);
    assert.throws(
      () => qlinearForward(file, prefix, x, 1, 'fast'),
      (e: Error) => e.message.includes(message),
      `${label}: ${message}`,
    );
  }
});
