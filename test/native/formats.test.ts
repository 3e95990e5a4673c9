// Checkpoint formats: bit layouts checked against independent TypeScript packing, and
// pack → write → read → unpack bit-exact for every format and bit width (incl. act-order g_idx).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { FormatName, checkpointConfig, packLayer, unpackLayer } from '../../native/lib/formats';
import { GroupQuantized } from '../../native/lib/groupQuantized';
import { QUANT_DEFAULTS } from '../../native/model';
import { TensorToWrite, f16ToF32, f32ToF16, readSafetensorsHeader, writeSafetensors } from '../../native/lib/io';
import { Bnb4Result, GroupResult, Int8Result, QuantResult, quantize } from '../../native/lib/quant';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-formats-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let fileCount = 0;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A group result with random codes, zero points (including 0 and maxq) and scales; under act-order the
 *  columns' groups follow a random permutation, as GPTQ's desc_act produces. */
function syntheticGroup(rows: number, cols: number, bits: number, groupSize: number, actOrder: boolean, seed: number): GroupResult {
  const next = random(seed);
  const maxq = 2 ** bits;
  const groups = Math.ceil(cols / groupSize);
  const perm = Array.from({ length: cols }, (_, i) => i);
  if (actOrder) {
    for (let i = cols - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
  }
  const gIdx = new Int32Array(cols);
  perm.forEach((column, position) => {
    gIdx[column] = Math.floor(position / groupSize);
  });
  const zeros = Int32Array.from({ length: groups * rows }, (_, i) => (i < 2 ? [0, maxq - 1][i] : Math.floor(next() * maxq)));
  return {
    kind: 'group',
    rows,
    cols,
    bits,
    groupSize,
    q: Uint8Array.from({ length: rows * cols }, () => Math.floor(next() * maxq)),
    scales: Float32Array.from({ length: groups * rows }, () => next() * 0.01 + 1e-4),
    zeros,
    gIdx,
  };
}

function roundTrip(
  format: FormatName,
  prefix: string,
  result: QuantResult | GroupQuantized,
  options: { bits?: number; groupSize?: number } = {},
): { tensors: TensorToWrite[]; back: QuantResult; file: string } {
  const tensors = packLayer(format, prefix, result);
  const file = path.join(tmp, `layer-${fileCount++}.safetensors`);
  writeSafetensors(file, tensors);
  return { tensors, back: unpackLayer(format, file, prefix, options), file };
}

const asF16 = (values: Float32Array) => Array.from(f16ToF32(f32ToF16(values)));

function assertSameGroup(back: QuantResult, original: GroupResult, label: string): void {
  assert.equal(back.kind, 'group', label);
  const g = back as GroupResult;
  assert.deepEqual([g.rows, g.cols, g.bits, g.groupSize], [original.rows, original.cols, original.bits, original.groupSize], label);
  assert.deepEqual(Array.from(g.q), Array.from(original.q), `${label}: q`);
  assert.deepEqual(Array.from(g.zeros), Array.from(original.zeros), `${label}: zeros`);
  assert.deepEqual(Array.from(g.gIdx), Array.from(original.gIdx), `${label}: g_idx`);
  assert.deepEqual(Array.from(g.scales), asF16(original.scales), `${label}: scales`);
}

function assertSameTensors(a: TensorToWrite[], b: TensorToWrite[], label: string): void {
  assert.deepEqual(
    a.map((t) => [t.name, t.dtype, t.shape]),
    b.map((t) => [t.name, t.dtype, t.shape]),
    label,
  );
  for (let i = 0; i < a.length; i++) assert.deepEqual(Array.from(a[i].data), Array.from(b[i].data), `${label}: ${a[i].name}`);
}

/** Value k of a little-endian bit stream of 32-bit words. */
function streamValue(words: (k: number) => number, k: number, bits: number): number {
  let v = 0;
  for (let b = 0; b < bits; b++) {
    const bit = k * bits + b;
    v |= ((words(Math.floor(bit / 32)) >>> (bit % 32)) & 1) << b;
  }
  return v;
}

test('GPTQ v1: qweight, qzeros (zero − 1), scales and g_idx survive a file round trip at 2/3/4/8 bits, with and without act-order', () => {
  const rows = 64;
  const cols = 96;
  for (const bits of [2, 3, 4, 8]) {
    for (const actOrder of [false, true]) {
      const label = `${bits}-bit act-order ${actOrder}`;
      const g = syntheticGroup(rows, cols, bits, 32, actOrder, bits * 10 + Number(actOrder));
      const { tensors, back } = roundTrip('gptq', 'model.layers.0.mlp.up_proj', g, { bits, groupSize: 32 });
      assert.deepEqual(
        tensors.map((t) => [t.name, t.dtype, t.shape]),
        [
          ['model.layers.0.mlp.up_proj.qweight', 'I32', [(cols * bits) / 32, rows]],
          ['model.layers.0.mlp.up_proj.qzeros', 'I32', [3, (rows * bits) / 32]],
          ['model.layers.0.mlp.up_proj.scales', 'F16', [3, rows]],
          ['model.layers.0.mlp.up_proj.g_idx', 'I32', [cols]],
        ],
        label,
      );
      // Independent layout check: codes of column r are a bit stream down qweight's column r.
      const qweight = tensors[0].data as Int32Array;
      for (let r = 0; r < rows; r += 7) {
        for (let c = 0; c < cols; c++) {
          assert.equal(
            streamValue((w) => qweight[w * rows + r], c, bits),
            g.q[r * cols + c],
            `${label} q[${r}][${c}]`,
          );
        }
      }
      // v1 stores packed zeros minus one in every slot, word by word (3-bit: value by value).
      const qzeros = tensors[1].data as Int32Array;
      const words = (rows * bits) / 32;
      for (let group = 0; group < 3; group++) {
        for (let w = 0; w < words; w++) {
          let packed = 0;
          let ones = 0;
          for (let k = 0; k * bits < 32; k++) ones |= 1 << (k * bits);
          for (let r = 0; r < rows; r++) {
            const z = g.zeros[group * rows + r];
            const v = bits === 3 ? (z - 1) & 7 : z;
            const bit = r * bits;
            if (Math.floor(bit / 32) === w) packed |= v << (bit % 32);
            if (Math.floor(bit / 32) === w - 1 && (bit % 32) + bits > 32) packed |= v >>> (32 - (bit % 32));
          }
          const expected = bits === 3 ? packed | 0 : (packed - ones) | 0;
          assert.equal(qzeros[group * words + w], expected, `${label} qzeros[${group}][${w}]`);
        }
      }
      assertSameGroup(back, g, label);
      assertSameTensors(packLayer('gptq', 'model.layers.0.mlp.up_proj', back), tensors, `${label} repack`);
    }
  }
});

test("GPTQ v2 (GPTQModel's gptq_v2): the zero points stored as they are, every other tensor as v1, round trip at 2/3/4/8 bits", () => {
  const rows = 64;
  const cols = 96;
  for (const bits of [2, 3, 4, 8]) {
    const label = `${bits}-bit`;
    const g = syntheticGroup(rows, cols, bits, 32, false, bits * 10 + 7);
    const prefix = 'model.layers.0.mlp.up_proj';
    const v1 = packLayer('gptq', prefix, g);
    const v2 = packLayer('gptq', prefix, g, { v2Zeros: true });
    assertSameTensors([v1[0], v1[2], v1[3]], [v2[0], v2[2], v2[3]], `${label}: qweight, scales, g_idx`);
    const qzeros = v2[1].data as Int32Array;
    for (let group = 0; group < 3; group++)
      for (let r = 0; r < rows; r++)
        assert.equal(
          streamValue((w) => qzeros[group * ((rows * bits) / 32) + w], r, bits),
          g.zeros[group * rows + r],
          `${label} zero[${group}][${r}]`,
        );
    const file = path.join(tmp, `layer-${fileCount++}.safetensors`);
    writeSafetensors(file, v2);
    assertSameGroup(unpackLayer('gptq', file, prefix, { bits, groupSize: 32, v2Zeros: true }), g, label);
  }
});

test('GPTQ symmetric 4-bit stores zero 8 as 7 in every nibble', async () => {
  const w = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.sin(i));
  const r = (await quantize('rtn', w, 32, 64, { bits: 4, groupSize: 32, sym: true })) as GroupResult;
  const tensors = packLayer('gptq', 'l', r);
  assert.deepEqual(Array.from(tensors[1].data), new Array(2 * 4).fill(0x77777777));
  assert.deepEqual(
    Array.from(tensors[3].data),
    Array.from({ length: 64 }, (_, c) => Math.floor(c / 32)),
  );
});

test('AWQ GEMM packs 8 output channels per word in the order 0 2 4 6 1 3 5 7; GEMV packs along the input', () => {
  const rows = 16;
  const cols = 256;
  const g = syntheticGroup(rows, cols, 4, 64, false, 99);
  const gemm = roundTrip('awq-gemm', 'model.layers.1.self_attn.o_proj', g, { groupSize: 64 });
  assert.deepEqual(
    gemm.tensors.map((t) => [t.name.split('.').pop(), t.dtype, t.shape]),
    [
      ['qweight', 'I32', [cols, rows / 8]],
      ['qzeros', 'I32', [4, rows / 8]],
      ['scales', 'F16', [4, rows]],
    ],
  );
  const order = [0, 2, 4, 6, 1, 3, 5, 7];
  const qweight = gemm.tensors[0].data as Int32Array;
  for (let c = 0; c < cols; c++) {
    for (let w = 0; w < rows / 8; w++) {
      for (let i = 0; i < 8; i++) {
        assert.equal((qweight[c * (rows / 8) + w] >>> (4 * i)) & 15, g.q[(w * 8 + order[i]) * cols + c]);
      }
    }
  }
  const qzeros = gemm.tensors[1].data as Int32Array;
  for (let i = 0; i < 8; i++) assert.equal((qzeros[0] >>> (4 * i)) & 15, g.zeros[order[i]]);
  assertSameGroup(gemm.back, g, 'gemm');

  const gemv = roundTrip('awq-gemv', 'model.layers.1.self_attn.o_proj', g, { groupSize: 64 });
  // 4 groups → 1 word of zeros, rounded up to 2 words for group size 64; scales padded to 16 columns.
  assert.deepEqual(
    gemv.tensors.map((t) => [t.name.split('.').pop(), t.dtype, t.shape]),
    [
      ['qweight', 'I32', [rows, cols / 8]],
      ['qzeros', 'I32', [rows, 2]],
      ['scales', 'F16', [rows, 16]],
    ],
  );
  const vweight = gemv.tensors[0].data as Int32Array;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) assert.equal((vweight[r * (cols / 8) + (c >> 3)] >>> (4 * (c % 8))) & 15, g.q[r * cols + c]);
  }
  const vscales = f16ToF32(gemv.tensors[2].data as Uint16Array);
  assert.deepEqual(Array.from(vscales.subarray(4, 16)), new Array(12).fill(0));
  assertSameGroup(gemv.back, g, 'gemv');

  assert.throws(() => packLayer('awq-gemm', 'x', syntheticGroup(16, 64, 4, 32, true, 3)), {
    message: 'x: AWQ stores groups in column order; act-order (desc_act) groups cannot be packed',
  });
  assert.throws(() => packLayer('awq-gemm', 'x', syntheticGroup(16, 64, 3, 32, false, 3)), {
    message: 'x: AWQ checkpoints hold 4-bit weights, not 3',
  });
});

test("bitsandbytes 4-bit: NF4/FP4 with and without double quant round-trip with bitsandbytes' tensor names and quant state", async () => {
  const rows = 24;
  const cols = 50; // 1200 values: 19 blocks of 64, the last partial
  const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * 0.03);
  for (const type of ['nf4', 'fp4'] as const) {
    for (const doubleQuant of [false, true]) {
      const label = `${type} double ${doubleQuant}`;
      const r = (await quantize(type, w, rows, cols, { doubleQuant })) as Bnb4Result;
      const { tensors, back, file } = roundTrip('bnb4', 'model.layers.2.mlp.gate_proj', r);
      const names = tensors.map((t) => [t.name.replace('model.layers.2.mlp.gate_proj.', ''), t.dtype, t.shape]);
      const stateName = `weight.quant_state.bitsandbytes__${type}`;
      const stateText = JSON.stringify({ quant_type: type, blocksize: 64, dtype: 'float16', shape: [rows, cols] }).slice(0, -1);
      if (doubleQuant) {
        assert.deepEqual(
          names.map((n) => n[0]),
          ['weight', 'weight.absmax', 'weight.nested_absmax', 'weight.nested_quant_map', 'weight.quant_map', stateName],
        );
        assert.deepEqual(names[1].slice(1), ['U8', [19]]);
        assert.deepEqual(names[2].slice(1), ['F32', [1]]);
      } else {
        assert.deepEqual(
          names.map((n) => n[0]),
          ['weight', 'weight.absmax', 'weight.quant_map', stateName],
        );
        assert.deepEqual(names[1].slice(1), ['F32', [19]]);
      }
      assert.deepEqual(names[0].slice(1), ['U8', [600, 1]]);
      // json.dumps spacing; nested entries follow in bitsandbytes' order.
      const state = Buffer.from(tensors[tensors.length - 1].data as Uint8Array).toString('utf8');
      const pythonStyle = (o: object) => JSON.stringify(o).replace(/,"/g, ', "').replace(/":/g, '": ').replace(/,(\d)/g, ', $1');
      const expectedState = doubleQuant
        ? pythonStyle({
            quant_type: type,
            blocksize: 64,
            dtype: 'float16',
            shape: [rows, cols],
            nested_blocksize: 256,
            nested_dtype: 'float32',
            nested_offset: 0,
          }).replace('"nested_offset": 0', `"nested_offset": ${r.offset}`)
        : pythonStyle({ quant_type: type, blocksize: 64, dtype: 'float16', shape: [rows, cols] });
      assert.ok(state.startsWith(pythonStyle(JSON.parse(stateText + '}')).slice(0, -1)), label);
      assert.equal(state, expectedState, label);
      assert.ok(readSafetensorsHeader(file).tensors.length === tensors.length);
      assert.deepEqual(back, r, label);
      assertSameTensors(packLayer('bnb4', 'model.layers.2.mlp.gate_proj', back), tensors, `${label} repack`);
    }
  }
});

test('bitsandbytes 8-bit: weight int8, SCB and a row-major weight_format round-trip', async () => {
  const w = Float32Array.from({ length: 6 * 10 }, (_, i) => Math.cos(i) * (i % 7));
  const r = (await quantize('int8', w, 6, 10)) as Int8Result;
  const { tensors, back } = roundTrip('bnb8', 'model.layers.0.self_attn.v_proj', r);
  assert.deepEqual(
    tensors.map((t) => [t.name, t.dtype, t.shape]),
    [
      ['model.layers.0.self_attn.v_proj.weight', 'I8', [6, 10]],
      ['model.layers.0.self_attn.v_proj.SCB', 'F32', [6]],
      ['model.layers.0.self_attn.v_proj.weight_format', 'U8', []],
    ],
  );
  assert.deepEqual(Array.from(tensors[2].data), [0]);
  const expected: Int8Result = { ...r, threshold: 6 };
  assert.deepEqual(back, expected);
});

test('unpacking names what is missing or mismatched', () => {
  const g = syntheticGroup(32, 64, 4, 32, false, 5);
  const tensors = packLayer('gptq', 'l', g).filter((t) => !t.name.endsWith('qzeros'));
  const file = path.join(tmp, 'missing.safetensors');
  writeSafetensors(file, tensors);
  assert.throws(() => unpackLayer('gptq', file, 'l', { bits: 4, groupSize: 32 }), {
    message: 'tensor "l.qzeros" is missing from the checkpoint',
  });
  assert.throws(() => unpackLayer('gptq', file, 'l', { bits: 4, groupSize: 16 }), {
    message: 'tensor "l.scales" has shape [2, 32] but [4, 32] was expected from the quantization config',
  });
  assert.throws(() => packLayer('gptq', 'l', syntheticGroup(32, 36, 4, 4, false, 1)), {
    message: 'l: in_features 36 and out_features 32 must fill whole 32-bit words at 4 bits (multiples of 8); leave this layer unquantized',
  });
});

// Shapes found by the fuzzers (native/fuzz/): each once read past a buffer, divided by zero or overflowed.
test('unpacking refuses layers whose shapes cannot be a packed layer', () => {
  const file = (name: string, tensors: TensorToWrite[]) => {
    const out = path.join(tmp, `${name}.safetensors`);
    writeSafetensors(out, tensors);
    return out;
  };
  // GPTQ: 3 output columns at 4 bits leave qzeros no whole word (its shape [1, 0] matched the config's arithmetic).
  const narrow = file('gptq-narrow', [
    { name: 'l.g_idx', dtype: 'I32', shape: [8], data: new Int32Array(8) },
    { name: 'l.scales', dtype: 'F16', shape: [1, 3], data: new Uint16Array(3) },
    { name: 'l.qweight', dtype: 'I32', shape: [1, 3], data: new Int32Array(3) },
    { name: 'l.qzeros', dtype: 'I32', shape: [1, 0], data: new Int32Array(0) },
  ]);
  assert.throws(() => unpackLayer('gptq', narrow, 'l', { bits: 4, groupSize: -1 }), {
    message:
      'l: in_features 8 and out_features 3 (from g_idx and scales) do not fill whole 32-bit words at 4 bits, ' +
      'so qweight and qzeros cannot hold them; check bits in the quantization config',
  });
  const emptyGptq = file('gptq-empty', [
    { name: 'l.g_idx', dtype: 'I32', shape: [0], data: new Int32Array(0) },
    { name: 'l.scales', dtype: 'F16', shape: [0, 8], data: new Uint16Array(0) },
  ]);
  assert.throws(() => unpackLayer('gptq', emptyGptq, 'l', { bits: 4, groupSize: -1 }), {
    message: 'l: g_idx [0] and scales [0, 8] describe an empty layer',
  });
  // AWQ per channel with no input columns: the group size became 0 and divided.
  const emptyAwq = file('awq-empty', [{ name: 'l.qweight', dtype: 'I32', shape: [0, 2], data: new Int32Array(0) }]);
  assert.throws(() => unpackLayer('awq-gemm', emptyAwq, 'l', { groupSize: -1 }), {
    message: 'l.qweight: expected a non-empty 2-D tensor, found [0, 2]',
  });
  const emptyInt8 = file('int8-empty', [{ name: 'l.weight', dtype: 'I8', shape: [0, 4], data: new Int8Array(0) }]);
  assert.throws(() => unpackLayer('bnb8', emptyInt8, 'l'), { message: 'l.weight: expected a non-empty [out, in], found [0, 4]' });
  // bitsandbytes: a quant state shape whose element count overflows int64.
  const state = new TextEncoder().encode('{"quant_type": "nf4", "blocksize": 64, "shape": [4611686018427387904, 4]}');
  const huge = file('bnb4-huge', [{ name: 'l.weight.quant_state.bitsandbytes__nf4', dtype: 'U8', shape: [state.length], data: state }]);
  assert.throws(() => unpackLayer('bnb4', huge, 'l'), {
    message: 'l.weight: quant state shape [4611686018427387904, 4] has more elements than a tensor can hold',
  });
});

test('config entries refuse numbers JSON cannot hold', () => {
  assert.throws(() => checkpointConfig('gptq', { dampPercent: NaN }), {
    message: 'quantization_config: damp_percent must be a finite number, not NaN',
  });
  assert.throws(() => checkpointConfig('bnb8', { threshold: -Infinity }), {
    message: 'quantization_config: llm_int8_threshold must be a finite number, not -Infinity',
  });
});

test('config entries carry the keys the loaders read', () => {
  const gptq = checkpointConfig('gptq', { bits: 3, groupSize: 64, descAct: true, sym: false, dampPercent: 0.05 });
  assert.deepEqual(gptq.quantizationConfig, {
    quant_method: 'gptq',
    bits: 3,
    group_size: 64,
    damp_percent: 0.05,
    desc_act: true,
    static_groups: false,
    sym: false,
    true_sequential: true,
    lm_head: false,
    format: 'gptq',
    checkpoint_format: 'gptq',
    meta: { quantizer: ['quantstudio:0.1.0'] },
  });
  assert.equal(gptq.sideFile?.name, 'quantize_config.json');
  assert.deepEqual(JSON.parse(gptq.sideFile?.text ?? ''), gptq.quantizationConfig);
  const awq = checkpointConfig('awq-gemv', { groupSize: 128 });
  assert.deepEqual(awq.quantizationConfig, {
    quant_method: 'awq',
    bits: 4,
    group_size: 128,
    zero_point: true,
    version: 'gemv',
    modules_to_not_convert: null,
  });
  assert.deepEqual(JSON.parse(awq.sideFile?.text ?? ''), { zero_point: true, q_group_size: 128, w_bit: 4, version: 'GEMV' });
  assert.deepEqual(checkpointConfig('bnb4', { quantType: 'fp4', doubleQuant: true, computeDtype: 'bfloat16' }).quantizationConfig, {
    quant_method: 'bitsandbytes',
    _load_in_8bit: false,
    _load_in_4bit: true,
    llm_int8_threshold: 6,
    llm_int8_skip_modules: null,
    llm_int8_enable_fp32_cpu_offload: false,
    llm_int8_has_fp16_weight: false,
    bnb_4bit_quant_type: 'fp4',
    bnb_4bit_use_double_quant: true,
    bnb_4bit_compute_dtype: 'bfloat16',
    bnb_4bit_quant_storage: 'uint8',
    load_in_4bit: true,
    load_in_8bit: false,
  });
  const int8 = checkpointConfig('bnb8', { threshold: 5 }).quantizationConfig;
  assert.deepEqual([int8.load_in_8bit, int8.load_in_4bit, int8.llm_int8_threshold], [true, false, 5]);
  assert.equal(checkpointConfig('bnb8').sideFile, undefined);
});

test("a GPTQ config written without damp_percent records GPTQConfig's default, the one the pipeline uses", () => {
  assert.equal(checkpointConfig('gptq', { bits: 4, groupSize: 128 }).quantizationConfig.damp_percent, QUANT_DEFAULTS.gptq.damp_percent);
});
