// AWQ on linears that share one input: search the per-input-channel scales, then quantize each
// linear's scaled weight (optionally with the clip search). The caller folds 1/scales into the op
// before (norm weight or previous linear's rows).
import { loadAddon } from './addon';
import { GroupQuantized, QuantRunControl, cancelFlag } from './groupQuantized';

export interface AwqOptions {
  bits?: number;
  /** Input columns per group (must divide cols); −1 = one group per row. Default 128. */
  groupSize?: number;
  /** Asymmetric with a zero point (AutoAWQ's GEMM/GEMV layouts). Default true. */
  zeroPoint?: boolean;
  /** Ratio grid points 0, 1/n, …, (n−1)/n. Default 20. */
  scaleGrid?: number;
  /** s = x_mean^r / w_mean^(1−r) (default) instead of x_mean^r. */
  duoScaling?: boolean;
  clipGrid?: number;
  clipMaxShrink?: number;
  clipSampleTokens?: number;
}

export interface AwqLinearInput {
  weight: Float32Array;
  rows: number;
}

export interface AwqScaleSearch {
  scales: Float32Array;
  bestRatio: number;
  bestLoss: number;
  lossByRatio: number[];
}

export interface AwqLinearResult {
  /** The quantized W·diag(scales), clipped when asked. */
  quantized: GroupQuantized;
  /** [rows × numGroups] chosen max |w| per group, or null without clipping. */
  clipMax: Float32Array | null;
}

interface AwqAddon {
  awqSearchScales(
    weights: Float32Array[],
    rowsEach: number[],
    cols: number,
    activations: Float32Array,
    options: AwqOptions,
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: Int32Array,
  ): Promise<AwqScaleSearch>;
  awqQuantizeLinear(
    weight: Float32Array,
    rows: number,
    cols: number,
    scales: Float32Array,
    activations: Float32Array,
    clip: boolean,
    options: AwqOptions,
  ): Promise<AwqLinearResult>;
}

function addon(): AwqAddon {
  return loadAddon() as unknown as AwqAddon;
}

/** Scale search where the inspected module is the linears themselves (their outputs concatenated). */
export function awqSearchScales(
  linears: AwqLinearInput[],
  cols: number,
  activations: Float32Array,
  options: AwqOptions = {},
  control: QuantRunControl = {},
): Promise<AwqScaleSearch> {
  return addon().awqSearchScales(
    linears.map((l) => l.weight),
    linears.map((l) => l.rows),
    cols,
    activations,
    options,
    control.onProgress,
    cancelFlag(control.signal),
  );
}

/** Quantizes one linear's weight scaled by `scales`; with `clip`, runs the clip search on `activations`. */
export function awqQuantizeLinear(
  weight: Float32Array,
  rows: number,
  cols: number,
  scales: Float32Array,
  activations: Float32Array,
  clip: boolean,
  options: AwqOptions = {},
): Promise<AwqLinearResult> {
  return addon().awqQuantizeLinear(weight, rows, cols, scales, activations, clip, options);
}
