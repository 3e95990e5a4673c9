// The kernel the runtime runs a variant's layers with, as the engine itself reports it: the runtime picks a
// linear loader by the tensors it finds (GPTQ, AWQ GEMM/GEMV, bitsandbytes 4-bit, int8, else dense), so the
// first attention projection is loaded the same way and asked for its format.
import type { TensorMeta } from '../../../model';
import { loadAddon } from '../../../lib';

interface QuantLinearProbe {
  qlinearForward(path: string, prefix: string, x: Float32Array, m: number, mode: 'fast'): { format: string };
}

const DENSE_NAMES: Record<string, string> = { F16: 'fp16', BF16: 'bf16', F32: 'fp32', F64: 'fp64' };

/** e.g. "gptq fused", "awq-gemm fused", "bnb4 fused", "bnb8 fused", "fp16 matmul". */
export function kernelOf(folder: string, tensors: readonly TensorMeta[], hiddenSize: number): string {
  const probe = tensors.map((t) => /^(.*\.q_proj)\./.exec(t.name)?.[1]).find((p): p is string => p !== undefined);
  if (probe === undefined) return 'unknown';
  const addon = loadAddon() as unknown as QuantLinearProbe;
  try {
    return `${addon.qlinearForward(folder, probe, new Float32Array(hiddenSize), 1, 'fast').format} fused`;
  } catch (error) {
    // Not a quantized layer: the dense kernel on the weight's own dtype.
    if (!(error instanceof Error) || !error.message.includes('is not a quantized layer')) throw error;
    const dtype = tensors.find((t) => t.name === `${probe}.weight`)?.dtype;
    return `${dtype === undefined ? 'dense' : (DENSE_NAMES[dtype] ?? dtype.toLowerCase())} matmul`;
  }
}
