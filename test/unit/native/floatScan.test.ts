// The float scan's counts: every dtype's NaN / Inf / beyond-fp16 patterns, the same through typed-array
// views and the unaligned fallback, and the same whatever the chunk size the tensor is streamed in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countChunk } from '../../../native/model/floatScan';
import type { FloatCounts } from '../../../native/model/floatScan';
import { forEachChunk } from '../../../native/model/tensorData';
import { readLocalHeader } from '../../../native/model';
import type { SafetensorsDtype } from '../../../native/model';

const count = (dtype: SafetensorsDtype, bytes: Uint8Array): FloatCounts => {
  const c = { nan: 0, inf: 0, overFp16: 0 };
  countChunk(dtype, bytes, c);
  return c;
};

/** The same bytes at an odd offset, so the scan cannot take a typed-array view. */
const unaligned = (bytes: Buffer): Uint8Array => {
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes, 1);
  return padded.subarray(1);
};

test('F16, BF16 and F32 patterns are counted alike through both paths', () => {
  const f16 = Buffer.alloc(12);
  [0x3c00, 0x7e00, 0xfc00, 0x7bff, 0x7c01, 0x0000].forEach((h, i) => f16.writeUInt16LE(h, 2 * i)); // 1, NaN, −Inf, 65504, NaN, 0
  const bf16 = Buffer.alloc(10);
  [0x477f, 0x4780, 0xc780, 0x7f80, 0x7fc0].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i)); // 65280, 65536, −65536, Inf, NaN
  const f32 = Buffer.alloc(20);
  [65504, 65505, -1e9, Infinity, NaN].forEach((v, i) => f32.writeFloatLE(v, 4 * i));
  const cases: Array<[SafetensorsDtype, Buffer, FloatCounts]> = [
    ['F16', f16, { nan: 2, inf: 1, overFp16: 0 }],
    ['BF16', bf16, { nan: 1, inf: 1, overFp16: 2 }],
    ['F32', f32, { nan: 1, inf: 1, overFp16: 2 }],
  ];
  for (const [dtype, bytes, expected] of cases) {
    const aligned = new Uint8Array(new Uint8Array(bytes).buffer);
    assert.deepEqual(count(dtype, aligned), expected, dtype);
    assert.deepEqual(count(dtype, unaligned(bytes)), expected, `${dtype} unaligned`);
  }
});

test('a tensor streamed in 8-byte chunks gives the counts of one read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-scan-'));
  try {
    const data = Buffer.alloc(4 * 10);
    for (let i = 0; i < 10; i++) data.writeFloatLE(i % 3 === 0 ? NaN : i * 1e5, 4 * i);
    const header = Buffer.from(
      JSON.stringify({ pad: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, t: { dtype: 'F32', shape: [10], data_offsets: [2, 42] } }),
    );
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(dir, 'm.safetensors'), Buffer.concat([length, header, Buffer.from([7, 7]), data]));
    const t = (await readLocalHeader(join(dir, 'm.safetensors'), 'm.safetensors')).find((x) => x.name === 't')!;
    const chunked = { nan: 0, inf: 0, overFp16: 0 };
    const sizes: number[] = [];
    await forEachChunk(
      dir,
      t,
      (c) => {
        sizes.push(c.length);
        countChunk('F32', c, chunked);
      },
      8,
    );
    assert.deepEqual(sizes, [8, 8, 8, 8, 8]);
    assert.deepEqual(chunked, { nan: 4, inf: 0, overFp16: 6 }); // i = 0, 3, 6, 9 NaN; the other six are 1e5 · i, beyond 65504
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
