// Bytes per element of each safetensors dtype, and the torch dtype names config.json uses.
import type { SafetensorsDtype } from './types';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isSafetensorsDtype(name: string): name is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, name);
}

/** Floating dtypes a Linear weight can be stored in before quantization. */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16']);

/** Compute dtype names (config.json `dtype` / `torch_dtype`) → bytes per element. */
export const COMPUTE_DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  fp32: 4,
  fp16: 2,
  bf16: 2,
  half: 2,
  float: 4,
};
