// Reading tensor data from local safetensors files in bounded chunks: the checkpoint doctor scans every
// float tensor of a folder that may be many GB, so no tensor is ever loaded whole unless asked for.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { raise } from './errors';
import { headerLength } from './safetensorsHeader';
import type { TensorMeta } from './types';

/** Bytes read at a time; a multiple of every element size. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** Calls `each` with consecutive chunks of the tensor's data (views into one reused buffer). */
export async function forEachChunk(
  folder: string,
  t: TensorMeta,
  each: (chunk: Uint8Array) => void,
  chunkBytes = CHUNK_BYTES,
): Promise<void> {
  const path = join(folder, t.file);
  if (t.offset === undefined) raise('invalid', `tensor ${t.name} has no data offset`, path, 'read the header with readLocalHeader');
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const prefix = new Uint8Array(8);
    await handle.read(prefix, 0, 8, 0);
    const start = 8 + headerLength(prefix, size, path) + t.offset;
    const buffer = new Uint8Array(Math.min(chunkBytes, Math.max(t.bytes, 1)));
    for (let done = 0; done < t.bytes;) {
      const want = Math.min(buffer.length, t.bytes - done);
      const { bytesRead } = await handle.read(buffer, 0, want, start + done);
      if (bytesRead !== want)
        raise(
          'invalid',
          `tensor ${t.name} ends early (${done + bytesRead} of ${t.bytes} bytes)`,
          path,
          'the file is truncated; download it again',
        );
      each(buffer.subarray(0, want));
      done += want;
    }
  } finally {
    await handle.close();
  }
}

/** A small tensor's whole data (g_idx, qzeros, a quant-state blob); refuses more than `limit` bytes. */
export async function readTensorBytes(folder: string, t: TensorMeta, limit = 64 * 1024 * 1024): Promise<Uint8Array> {
  if (t.bytes > limit)
    raise(
      'invalid',
      `tensor ${t.name} is ${t.bytes} bytes, more than the ${limit} read whole`,
      join(folder, t.file),
      'this tensor is scanned in chunks instead',
    );
  const out = new Uint8Array(t.bytes);
  let at = 0;
  await forEachChunk(folder, t, (chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  return out;
}

/** Little-endian int32 values of an I32 tensor's bytes. */
export function int32s(bytes: Uint8Array): Int32Array {
  const copy = new Uint8Array(bytes);
  return new Int32Array(copy.buffer, 0, copy.length >> 2);
}
