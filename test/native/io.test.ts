// safetensors reading (validated against an independent header parse), exact errors for malformed
// files, write → read round trips, checkpoint folders, and the half/bfloat16 conversions.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import {
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  readSafetensorsHeader,
  readTensor,
  writeCheckpoint,
  writeSafetensors,
  TensorToWrite,
} from '../../native/lib/io';

const root = path.join(__dirname, '..', '..', '..');
const tinyLlama = path.join(root, 'examples', 'tiny-llama');
const tinyFile = path.join(tinyLlama, 'model.safetensors');

const tempDirs: string[] = [];
after(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-io-'));
  tempDirs.push(dir);
  return dir;
}

/** An independent reader of the header: the 8-byte length, the JSON, the data start. */
function parseHeader(file: string): {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  dataStart: number;
  bytes: Buffer;
} {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  delete header.__metadata__;
  return { header, dataStart: 8 + length, bytes };
}

/** A safetensors file from a header (object or raw text) and a data buffer. */
function makeFile(dir: string, name: string, header: object | string, data: Buffer, lengthOverride?: bigint): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([length, text, data]));
  return file;
}

/** A 16-bit float's bits → number, from the IEEE definition: fp16 keeps 10 mantissa bits, bf16 7 (the rest: exponent). */
function bits16ToNumber(h: number, mantissaBits: number): number {
  const exponentMax = (1 << (15 - mantissaBits)) - 1;
  const bias = exponentMax >> 1;
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> mantissaBits) & exponentMax;
  const mantissa = h & ((1 << mantissaBits) - 1);
  if (exponent === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  if (exponent === exponentMax) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 2 ** mantissaBits) * 2 ** (exponent - bias);
}

const halfToNumber = (h: number): number => bits16ToNumber(h, 10);
const bf16ToNumber = (h: number): number => bits16ToNumber(h, 7);

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Nearest value with `mantissaBits` stored bits and minimum exponent `minExp`, ties to even; the
 *  result's bit pattern is (E − minExp) << mantissaBits + r, which also covers subnormals and carries. */
function roundToFormat(x: number, mantissaBits: number, minExp: number, overflowAt: number, infBits: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= overflowAt) return sign | infBits;
  if (a === 0) return sign;
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const E = Math.max(e, minExp);
  const r = roundHalfEven(a / 2 ** (E - mantissaBits));
  return sign | (((E - minExp) << mantissaBits) + r);
}

const toHalfReference = (x: number) => roundToFormat(x, 10, -14, 65520, 0x7c00);
const toBf16Reference = (x: number) => roundToFormat(x, 7, -126, 2 ** 128 * (1 - 2 ** -9), 0x7f80);

test('reads tiny-llama: names, dtypes, shapes and bytes match an independent header parse', () => {
  const { header, dataStart, bytes } = parseHeader(tinyFile);
  const read = readSafetensorsHeader(tinyFile);
  assert.deepEqual(read.metadata, { format: 'pt' });
  assert.deepEqual(read.tensors.map((t) => t.name).sort(), Object.keys(header).sort());
  for (const t of read.tensors) {
    assert.equal(t.dtype, header[t.name].dtype, t.name);
    assert.deepEqual(t.shape, header[t.name].shape, t.name);
  }
  for (const name of ['model.norm.weight', 'model.layers.3.self_attn.k_proj.weight', 'lm_head.weight']) {
    const tensor = readTensor(tinyLlama, name);
    const [b, e] = header[name].data_offsets;
    const expected = bytes.subarray(dataStart + b, dataStart + e);
    assert.equal(tensor.dtype, 'F16');
    assert.deepEqual(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), expected, name);
    // A few values decoded both ways.
    const floats = f16ToF32(tensor.data as Uint16Array);
    for (const i of [0, 1, 7, floats.length - 1]) {
      assert.equal(floats[i], halfToNumber(expected.readUInt16LE(2 * i)), `${name}[${i}]`);
    }
  }
  assert.equal(readTensor(tinyLlama, 'model.embed_tokens.weight').shape.join('x'), '4096x256');
});

test('a model folder with an index opens each shard once and names missing shards and tensors', () => {
  const dir = tempDir();
  const a = { name: 'a', dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) };
  const b = { name: 'b', dtype: 'I32' as const, shape: [1], data: new Int32Array([7]) };
  writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), [a]);
  writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), [b]);
  const index = { metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } };
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  assert.deepEqual(Array.from(readTensor(dir, 'b').data), [7]);
  assert.throws(() => readTensor(dir, 'c'), {
    message: `${dir}: tensor "c" not found in the weights; the model does not match its config`,
  });
  index.weight_map = { ...index.weight_map, c: 'model-00003-of-00002.safetensors' } as typeof index.weight_map;
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  assert.throws(() => readTensor(dir, 'a'), {
    message: `${path.join(dir, 'model.safetensors.index.json')}: shard "model-00003-of-00002.safetensors" (holding tensor "c") is missing from the model folder; download it again`,
  });
});

test('malformed files fail with errors that name the problem', () => {
  const dir = tempDir();
  const eight = Buffer.alloc(8);
  const truncatedHeader = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const truncatedSize = 8 + JSON.stringify(truncatedHeader).length + 8;
  const cases: Array<[string, () => string, string]> = [
    [
      'short',
      () => {
        const f = path.join(dir, 'short');
        fs.writeFileSync(f, Buffer.alloc(5));
        return f;
      },
      'not a safetensors file: 5 bytes is shorter than the 8-byte header length',
    ],
    [
      'truncated header',
      () => makeFile(dir, 'trunc', truncatedHeader, eight, 4000n),
      `header length 4000 runs past the end of the file (${truncatedSize} bytes); the file is truncated`,
    ],
    [
      'header too large',
      () => makeFile(dir, 'large', '{}', Buffer.alloc(0), 100_000_001n),
      'header length 100000001 exceeds the 100 MB limit; the file is corrupt or not a safetensors file',
    ],
    [
      'truncated data',
      () => makeFile(dir, 'data', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight),
      'tensor "a": data_offsets [0, 16] lie outside the data buffer (8 bytes); the file is truncated or corrupt',
    ],
    [
      'overlap',
      () =>
        makeFile(
          dir,
          'overlap',
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          Buffer.alloc(12),
        ),
      'tensors "a" and "b" overlap (data_offsets [0, 8] and [4, 12])',
    ],
    [
      'gap',
      () => makeFile(dir, 'gap', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight),
      'tensor "a": data starts at byte 4 but the previous tensor ends at byte 0 (a gap in the data buffer)',
    ],
    [
      'trailing bytes',
      () => makeFile(dir, 'trailing', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, eight),
      'tensors cover 4 bytes but the data buffer holds 8 bytes',
    ],
    [
      'bad dtype',
      () => makeFile(dir, 'dtype', { w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, eight),
      'tensor "w": unsupported dtype "F64" (the engine reads F32, F16, BF16, I8, U8, I32, I64); convert the checkpoint first',
    ],
    [
      'shape/bytes mismatch',
      () => makeFile(dir, 'shape', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight),
      'tensor "w": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8',
    ],
    ['not JSON', () => makeFile(dir, 'json', '{"a": ', eight), 'header: invalid JSON at byte 6: expected a value'],
  ];
  for (const [label, make, message] of cases) {
    const file = make();
    assert.throws(() => readSafetensorsHeader(file), { message: `${file}: ${message}` }, label);
  }
  assert.throws(() => readTensor(path.join(dir, 'nowhere'), 'x'), {
    message: `${path.join(dir, 'nowhere')}: no model.safetensors or model.safetensors.index.json; point to a folder with safetensors weights`,
  });
});

test('write → read round trip keeps every dtype, shape, value and the metadata; the header is 8-byte aligned', () => {
  const dir = tempDir();
  const file = path.join(dir, 'out.safetensors');
  const tensors: TensorToWrite[] = [
    { name: 'z.f32', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, -0, 1e-30]) },
    { name: 'a.f16', dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xfc00, 0x0001]) },
    { name: 'm.bf16', dtype: 'BF16', shape: [1, 1], data: new Uint16Array([0x3f80]) },
    { name: 'i8', dtype: 'I8', shape: [4], data: new Int8Array([-128, 127, 0, -1]) },
    { name: 'u8', dtype: 'U8', shape: [], data: new Uint8Array([9]) },
    { name: 'i32', dtype: 'I32', shape: [2, 0], data: new Int32Array(0) },
  ];
  writeSafetensors(file, tensors, { format: 'pt', note: 'α "quoted"' });
  const { bytes, dataStart } = parseHeader(file);
  assert.equal(dataStart % 8, 0);
  assert.match(bytes.subarray(8, dataStart).toString('utf8'), /^\{"__metadata__":\{"format":"pt","note":"α \\"quoted\\""\},"a\.f16":/);
  const header = readSafetensorsHeader(file);
  assert.deepEqual(header.metadata, { format: 'pt', note: 'α "quoted"' });
  assert.deepEqual(
    header.tensors.map((t) => t.name),
    ['a.f16', 'i32', 'i8', 'm.bf16', 'u8', 'z.f32'],
  );
  for (const t of tensors) {
    const back = readTensor(file, t.name);
    assert.equal(back.dtype, t.dtype);
    assert.deepEqual(back.shape, t.shape);
    assert.deepEqual(Array.from(back.data), Array.from(t.data), t.name);
  }
  assert.throws(() => writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), {
    message: `${file}: tensor "x": shape [3] of F32 does not match its 8 bytes of data`,
  });
});

test('rewriting tiny-llama gives the same bytes as the reference writer', () => {
  const dir = tempDir();
  const out = path.join(dir, 'copy.safetensors');
  const header = readSafetensorsHeader(tinyFile);
  writeSafetensors(
    out,
    header.tensors.map((t) => readTensor(tinyFile, t.name)),
    header.metadata,
  );
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(tinyFile)));
});

test('writeCheckpoint renames a finished folder, refuses the source and non-empty folders, and leaves nothing on cancel', async () => {
  const dir = tempDir();
  const out = path.join(dir, 'quantized');
  const files = [
    { name: 'config.json', text: '{"a": 1}\n' },
    { name: 'model.safetensors', tensors: [{ name: 'w', dtype: 'F32' as const, shape: [1], data: new Float32Array([2]) }] },
  ];
  const steps: number[] = [];
  await writeCheckpoint(out, files, { source: tinyLlama, onProgress: (done) => steps.push(done) });
  assert.deepEqual(fs.readdirSync(out).sort(), ['config.json', 'model.safetensors']);
  assert.deepEqual(steps, [1, 2]);
  assert.deepEqual(fs.readdirSync(dir), ['quantized']);
  await assert.rejects(writeCheckpoint(out, files), {
    message: `${out}: exists and is not empty; choose an empty folder or allow overwriting`,
  });
  await writeCheckpoint(out, [files[0]], { overwrite: true });
  assert.deepEqual(fs.readdirSync(out), ['config.json']);
  const inside = path.join(tinyLlama, 'q');
  await assert.rejects(writeCheckpoint(inside, files, { source: tinyLlama }), {
    message: `${inside}: is inside the source model folder ${tinyLlama}; choose an output folder elsewhere so the source stays untouched`,
  });
  const controller = new AbortController();
  controller.abort();
  const cancelled = path.join(dir, 'cancelled');
  await assert.rejects(writeCheckpoint(cancelled, files, { signal: controller.signal }), { message: 'cancelled' });
  assert.deepEqual(fs.readdirSync(dir), ['quantized']);
});

test('F16 → F32 is exact for all 65536 halves', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const floats = f16ToF32(all);
  for (let h = 0; h < 65536; h++) {
    const expected = halfToNumber(h);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(floats[h]), `0x${h.toString(16)}`);
    else assert.ok(Object.is(floats[h], expected), `0x${h.toString(16)}: ${floats[h]} vs ${expected}`);
  }
});

test('F32 → F16 rounds to nearest even: every half, every midpoint and its neighbours, overflow', () => {
  const inputs: number[] = [];
  const finite: number[] = [];
  for (let h = 0; h < 0x7c00; h++) finite.push(halfToNumber(h));
  for (let i = 0; i < finite.length; i++) {
    inputs.push(finite[i], -finite[i]);
    if (i + 1 < finite.length) {
      const mid = Math.fround((finite[i] + finite[i + 1]) / 2);
      const below = new Float32Array([mid]);
      const bits = new Uint32Array(below.buffer);
      const m = below[0];
      bits[0] -= 1;
      const lower = below[0];
      bits[0] += 2;
      inputs.push(m, -m, lower, below[0]);
    }
  }
  inputs.push(65504, 65519.99, 65520, 1e10, Infinity, -Infinity, 2 ** -25, 2 ** -26, 3 * 2 ** -26);
  const values = new Float32Array(inputs);
  const halves = f32ToF16(values);
  for (let i = 0; i < values.length; i++) {
    assert.equal(halves[i], toHalfReference(values[i]), `${values[i]}`);
  }
  assert.equal(f32ToF16(new Float32Array([NaN]))[0] & 0x7fff, 0x7e00);
});

test('BF16 → F32 is exact for all 65536 patterns, and F32 → BF16 rounds to nearest even', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const floats = bf16ToF32(all);
  const inputs: number[] = [];
  for (let h = 0; h < 65536; h++) {
    const expected = bf16ToNumber(h);
    if (Number.isNaN(expected)) {
      assert.ok(Number.isNaN(floats[h]));
      continue;
    }
    assert.ok(Object.is(floats[h], expected), `0x${h.toString(16)}`);
    if ((h & 0x7fff) < 0x7f7f) {
      const next = bf16ToNumber(h + 1);
      inputs.push(expected, Math.fround((expected + next) / 2));
    }
  }
  for (let i = 0; i < 20000; i++) inputs.push(Math.fround(Math.sin(i * 12.9898) * 10 ** ((i % 60) - 30)));
  const values = new Float32Array(inputs);
  const rounded = f32ToBf16(values);
  for (let i = 0; i < values.length; i++) assert.equal(rounded[i], toBf16Reference(values[i]), `${values[i]}`);
});
