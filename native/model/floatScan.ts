// NaN / Inf / fp16-overflow counts of float tensor data: a fp16 kernel turns a scale or weight above 65504
// (representable in fp32 and bf16) into Inf, so such values break inference as surely as a stored NaN.
import type { SafetensorsDtype } from './types';

export const FP16_MAX = 65504;

export interface FloatCounts {
  nan: number;
  inf: number;
  /** Finite values beyond ±65504 in an F32 / BF16 tensor. */
  overFp16: number;
}

export const SCANNED_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F16', 'BF16', 'F32']);

/** Adds the counts of one chunk of `dtype` data (little-endian, whole elements) to `into`. */
export function countChunk(dtype: SafetensorsDtype, chunk: Uint8Array, into: FloatCounts): void {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (dtype === 'F16') {
    for (let i = 0; i + 1 < chunk.length; i += 2) {
      const h = view.getUint16(i, true);
      if ((h & 0x7c00) === 0x7c00) (h & 0x03ff ? into.nan++ : into.inf++);
    }
  } else if (dtype === 'BF16') {
    for (let i = 0; i + 1 < chunk.length; i += 2) {
      const b = view.getUint16(i, true);
      if ((b & 0x7f80) === 0x7f80) (b & 0x007f ? into.nan++ : into.inf++);
      else if ((b & 0x7fff) > 0x477f) into.overFp16++; // 0x477f (65280) is the largest bf16 not above 65504; 0x4780 is 65536
    }
  } else if (dtype === 'F32') {
    for (let i = 0; i + 3 < chunk.length; i += 4) {
      const v = view.getFloat32(i, true);
      if (Number.isNaN(v)) into.nan++;
      else if (!Number.isFinite(v)) into.inf++;
      else if (Math.abs(v) > FP16_MAX) into.overFp16++;
    }
  }
}
