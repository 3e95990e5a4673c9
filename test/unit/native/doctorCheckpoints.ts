// Copies of the upstream-written checkpoints with one thing broken: a safetensors reader/writer for the test
// (the whole small file in memory) and GPTQ repacking to another bit width, so the doctor meets real layouts.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RawTensor {
  dtype: string;
  shape: number[];
  data: Buffer;
}

export function readSafetensors(path: string): { tensors: Map<string, RawTensor>; metadata: unknown } {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const tensors = new Map<string, RawTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    tensors.set(name, {
      dtype: e.dtype,
      shape: e.shape,
      data: Buffer.from(bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1])),
    });
  }
  return { tensors, metadata: header.__metadata__ };
}

export function writeSafetensors(path: string, tensors: Map<string, RawTensor>, metadata: unknown): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.length] };
    at += t.data.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, ...[...tensors.values()].map((t) => t.data)]));
}

/** Copies a fixture folder (its configs and weights) into `to`. */
export function copyCheckpoint(from: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith('.json') || f === 'model.safetensors') copyFileSync(join(from, f), join(to, f));
  return to;
}

/** Edits the quantization config in config.json and the side file, when there is one. */
export function editConfigs(folder: string, edit: (quant: Record<string, unknown>) => void): void {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
  edit(config.quantization_config);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  for (const side of ['quantize_config.json', 'quant_config.json']) {
    let text: string;
    try {
      text = readFileSync(join(folder, side), 'utf8');
    } catch {
      continue;
    }
    const json = JSON.parse(text) as Record<string, unknown>;
    edit(json);
    writeFileSync(join(folder, side), JSON.stringify(json, null, 2));
  }
}

/** Packs values little-end first into int32 words as GPTQ v1 does. */
function pack(values: number[], bits: number, words: number): Buffer {
  const out = new Uint32Array(words);
  values.forEach((v, i) => {
    const bit = i * bits;
    out[bit >> 5]! |= (v << (bit & 31)) >>> 0;
    if ((bit & 31) + bits > 32) out[(bit >> 5) + 1]! |= v >>> (32 - (bit & 31));
  });
  return Buffer.from(out.buffer);
}

/** Rewrites every GPTQ module of `folder` as `bits`-bit (codes 0..2^bits−1 cycling, symmetric v1 zeros), shapes as GPTQModel writes them. */
export function repackGptq(folder: string, bits: number): void {
  const file = join(folder, 'model.safetensors');
  const { tensors, metadata } = readSafetensors(file);
  for (const [name, t] of tensors) {
    if (!name.endsWith('.qweight')) continue;
    const base = name.slice(0, -'qweight'.length);
    const inFeatures = tensors.get(`${base}g_idx`)!.shape[0]!;
    const [groups, out] = tensors.get(`${base}scales`)!.shape as [number, number];
    const rows = (inFeatures * bits) / 32;
    const codes = Array.from({ length: inFeatures * out }, (_, i) => i % 2 ** bits);
    tensors.set(name, { dtype: 'I32', shape: [rows, out], data: pack(codes, bits, rows * out) });
    const zeroWords = (out * bits) / 32;
    tensors.set(`${base}qzeros`, {
      dtype: 'I32',
      shape: [groups, zeroWords],
      data: pack(Array(groups * out).fill(2 ** (bits - 1) - 1), bits, groups * zeroWords),
    });
    t.data = Buffer.alloc(0);
  }
  writeSafetensors(file, tensors, metadata);
}

/** Rewrites one tensor's bytes in place (same dtype and shape). */
export function editTensor(folder: string, name: string, edit: (data: Buffer) => void): void {
  const file = join(folder, 'model.safetensors');
  const { tensors, metadata } = readSafetensors(file);
  const t = tensors.get(name);
  if (!t) throw new Error(`${name} is not in ${file}`);
  edit(t.data);
  writeSafetensors(file, tensors, metadata);
}
