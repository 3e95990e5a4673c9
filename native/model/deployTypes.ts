// The shapes the deployment-target tables share (deployTargets.ts and one file per target).

/** A quantization config reduced to what a serving runtime's kernel choice reads. */
export interface DeploySettings {
  method: 'gptq' | 'awq' | 'bitsandbytes';
  bits: number;
  /** -1: one group over the whole input (per channel). */
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  /** gptq / gptq_v2 (GPTQ), gemm / gemv (AWQ), nf4 / fp4 / int8 (bitsandbytes). */
  format: string;
}

export interface LinearDims {
  in: number;
  out: number;
}

/** fast: the target's best kernel; fallback: it loads, on a slower kernel or path; refused: it fails to load. */
export type KernelPath = 'fast' | 'fallback' | 'refused';

/** The setting that decides a fallback or refusal (a quick fix changes it), or the layer's shape. */
export type DeployCause = 'bits' | 'sym' | 'zero_point' | 'group_size' | 'desc_act' | 'format' | 'method' | 'shape';

export interface KernelChoice {
  kernel: string;
  path: KernelPath;
  /** Why not the fast kernel (empty for fast). */
  why: string;
  cause?: DeployCause;
}

export interface TargetTable {
  /** The runtime and the release (or commit) its rules restate, e.g. "vLLM main@055e47c". */
  release: string;
  /**
   * The kernel for one Linear of these dims; without dims, the config-level answer (a layer's shape can
   * only make it worse). undefined: this table has no rule for the method.
   */
  choose(settings: DeploySettings, dims?: LinearDims): KernelChoice | undefined;
}

export const fast = (kernel: string): KernelChoice => ({ kernel, path: 'fast', why: '' });
export const fallback = (kernel: string, why: string, cause: DeployCause): KernelChoice => ({ kernel, path: 'fallback', why, cause });
export const refused = (why: string, cause: DeployCause): KernelChoice => ({ kernel: 'none', path: 'refused', why, cause });

/** group_size divides in_features (per-channel -1 always does). */
export const groupDivides = (s: DeploySettings, d: LinearDims): boolean => s.groupSize <= 0 || d.in % s.groupSize === 0;

/** Marlin's thread tiles: (out % 64, in % 128) or (out % 128, in % 64), as vLLM, TGI and GPTQModel all check it. */
export const marlinTileAligned = (d: LinearDims): boolean =>
  (d.out % 64 === 0 && d.in % 128 === 0) || (d.out % 128 === 0 && d.in % 64 === 0);

export const MARLIN_GROUP_SIZES: readonly number[] = [-1, 32, 64, 128];

/** Act-order with one group over the whole input is no act-order (vLLM and GPTQModel both reset it). */
export const actOrder = (s: DeploySettings, d?: LinearDims): boolean => s.descAct && s.groupSize !== -1 && (!d || s.groupSize < d.in);

/** Which setting keeps a GPTQ config off Marlin (bits 4/8, sym, a Marlin group size), or undefined when none does. */
export function marlinBlocker(s: DeploySettings): { why: string; cause: DeployCause } | undefined {
  if (![4, 8].includes(s.bits)) return { why: `Marlin takes 4 or 8 bits, not ${s.bits}`, cause: 'bits' };
  if (!s.sym && s.method === 'gptq') return { why: 'Marlin takes symmetric GPTQ only (sym true)', cause: 'sym' };
  if (!MARLIN_GROUP_SIZES.includes(s.groupSize))
    return { why: `Marlin takes group_size -1, 32, 64 or 128, not ${s.groupSize}`, cause: 'group_size' };
  return undefined;
}
