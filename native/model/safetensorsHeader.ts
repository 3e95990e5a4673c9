// Safetensors header parsing and validation. Format: 8-byte little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Only the header is ever read; a careful reader checks the size cap, the JSON shape and the offsets.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { DTYPE_BYTES, isSafetensorsDtype } from './dtypes';
import { raise } from './errors';
import { notRegularFile } from './fileKind';
import type { TensorMeta } from './types';

/** Same cap as the engine's reader: no real model header comes close to 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Header length from the first 8 bytes; raises when it is absurd for a file of `fileSize` bytes. */
export function headerLength(prefix: Uint8Array, fileSize: number, where: string): number {
  if (prefix.length < 8)
    raise('invalid', 'file is shorter than the 8-byte safetensors header length', where, 'the file is truncated; download it again');
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n || n > BigInt(MAX_HEADER_BYTES)) {
    raise(
      'invalid',
      `safetensors header length ${n} is outside 1..${MAX_HEADER_BYTES}`,
      where,
      'the file is not a safetensors file or is corrupt',
    );
  }
  const length = Number(n);
  if (8 + length > fileSize)
    raise(
      'invalid',
      `header length ${length} runs past the end of the ${fileSize}-byte file`,
      where,
      'the file is truncated; download it again',
    );
  return length;
}

/**
 * Tensors of one header. `dataBytes` is the size of the data buffer (file size − 8 − header length):
 * every tensor must lie inside it and its byte span must equal shape × dtype size.
 */
export function parseHeader(json: string, dataBytes: number, file: string, where: string): TensorMeta[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    raise('invalid', 'safetensors header is not valid JSON', where, 'the file is corrupt; download it again');
  }
  return tensorsOfHeader(parsed, dataBytes, file, where);
}

/** Tensors of an already-parsed header object (the Hub client parses headers itself). */
export function tensorsOfHeader(parsed: unknown, dataBytes: number, file: string, where: string): TensorMeta[] {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    raise('invalid', 'safetensors header is not a JSON object', where, 'the file is corrupt; download it again');
  }
  const tensors: TensorMeta[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    tensors.push(parseEntry(name, entry, dataBytes, file, where));
  }
  return tensors;
}

function parseEntry(name: string, entry: unknown, dataBytes: number, file: string, where: string): TensorMeta {
  const at = `${where} (tensor ${name})`;
  const bad = (what: string): never => raise('invalid', what, at, 'the file is corrupt or written by a broken tool; re-export it');
  if (typeof entry !== 'object' || entry === null) return bad('tensor entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !isSafetensorsDtype(dtype)) return bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    return bad('shape is not a list of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    return bad('data_offsets is not [begin, end]');
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin || end > dataBytes) return bad(`data_offsets [${begin}, ${end}] lie outside the ${dataBytes}-byte data buffer`);
  const dims = shape as number[];
  const expected = dims.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
  if (expected !== end - begin)
    return bad(`shape [${dims.join(', ')}] × ${dtype} is ${expected} bytes but data_offsets span ${end - begin}`);
  return { name, dtype, shape: dims, bytes: end - begin, file, offset: begin };
}

/** Reads only the header bytes of a local .safetensors file. */
export async function readLocalHeader(path: string, file: string): Promise<TensorMeta[]> {
  const info = await stat(path).catch(() => undefined);
  const other = info && notRegularFile(info);
  if (other) raise('invalid', other, path, 'move it away or replace it with the safetensors file');
  let handle;
  try {
    // O_NONBLOCK: a FIFO swapped in after the stat must not block the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    raise('not-found', 'cannot open safetensors file', path, 'check the path and the file permissions');
  }
  try {
    const opened = await handle.stat();
    const changed = notRegularFile(opened);
    if (changed) raise('invalid', changed, path, 'move it away or replace it with the safetensors file');
    const { size } = opened;
    const prefix = new Uint8Array(8);
    await handle.read(prefix, 0, 8, 0);
    const length = headerLength(prefix.subarray(0, Math.min(8, size)), size, path);
    const header = Buffer.alloc(length);
    await handle.read(header, 0, length, 8);
    return parseHeader(header.toString('utf8'), size - 8 - length, file, path);
  } finally {
    await handle.close();
  }
}
