// NaN / Inf / fp16-overflow counts of float tensor data: a fp16 kernel turns a scale or weight above 65504
// (representable in fp32 and bf16) into Inf, so such values break inference as surely as a stored NaN.
import { endianness } from 'node:os';
import type { SafetensorsDtype } from './types';

export const FP16_MAX = 65504;

export interface FloatCounts {
  nan: number;
  inf: number;
  /** Finite values beyond ±65504 in an F32 / BF16 tensor. */
  overFp16: number;
}

export const SCANNED_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F16', 'BF16', 'F32']);

/** Safetensors data is little-endian: typed-array views read it directly on a little-endian host. */
const NATIVE_LE = endianness() === 'LE';

function halves(chunk: Uint8Array): ArrayLike<number> {
  if (NATIVE_LE && chunk.byteOffset % 2 === 0) return new Uint16Array(chunk.buffer, chunk.byteOffset, chunk.byteLength >> 1);
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Array.from({ length: chunk.byteLength >> 1 }, (_, i) => view.getUint16(2 * i, true));
}

function singles(chunk: Uint8Array): ArrayLike<number> {
  if (NATIVE_LE && chunk.byteOffset % 4 === 0) return new Float32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength >> 2);
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Array.from({ length: chunk.byteLength >> 2 }, (_, i) => view.getFloat32(4 * i, true));
}

/** Adds the counts of one chunk of `dtype` data (little-endian, whole elements) to `into`. */
export function countChunk(dtype: SafetensorsDtype, chunk: Uint8Array, into: FloatCounts): void {
  if (dtype === 'F16') {
    const h = halves(chunk);
    for (let i = 0; i < h.length; i++) {
      if ((h[i]! & 0x7c00) === 0x7c00) {
        if (h[i]! & 0x03ff) into.nan++;
        else into.inf++;
      }
    }
  } else if (dtype === 'BF16') {
    const b = halves(chunk);
    for (let i = 0; i < b.length; i++) {
      const v = b[i]!;
      if ((v & 0x7f80) === 0x7f80) {
        if (v & 0x007f) into.nan++;
        else into.inf++;
      } else if ((v & 0x7fff) > 0x477f) into.overFp16++; // 0x477f (65280) is the largest bf16 not above 65504; 0x4780 is 65536
    }
  } else if (dtype === 'F32') {
    const f = singles(chunk);
    for (let i = 0; i < f.length; i++) {
      const v = f[i]!;
      if (Number.isNaN(v)) into.nan++;
      else if (!Number.isFinite(v)) into.inf++;
      else if (Math.abs(v) > FP16_MAX) into.overFp16++;
    }
  }
}
