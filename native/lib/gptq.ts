// GPTQ on one linear layer: the weight and the activations it saw during calibration in, the
// group-quantized weight out. Runs on a worker thread of the engine addon.
import { loadAddon } from './addon';
import { GroupQuantized, QuantRunControl, cancelFlag } from './groupQuantized';

export interface GptqOptions {
  bits?: 2 | 3 | 4 | 8;
  /** Input columns per group; −1 = one group per row. Default 128. */
  groupSize?: number;
  sym?: boolean;
  /** Act-order: quantize columns by descending Hessian diagonal. */
  descAct?: boolean;
  staticGroups?: boolean;
  /** GPTQModel 7.7's act_group_aware (GAR). Default false here: this one-layer API mirrors the reference fasterquant. */
  actGroupAware?: boolean;
  /** > 0: GPTQModel 7.7's range search under this norm. Default 0 (min/max). */
  mse?: number;
  /** > 0: GPTAQ with this alpha (GPTQModel 7.7 gptaq.alpha; 0.25 there by default). Default 0 (plain GPTQ). */
  gptaqAlpha?: number;
  /** GPTAQ: the activations the full-precision model gives this linear, one batch per activation batch. */
  fpActivationBatches?: Float32Array[];
  /** Default REFERENCE_DAMP_PERCENT, not a config's damp_percent: configs go through planFromConfig. */
  dampPercent?: number;
  /** Default QUANT_DEFAULTS.gptq.damp_auto_increment (0.0025). */
  dampAutoIncrement?: number;
  blockSize?: number;
}

export interface GptqResult {
  quantized: GroupQuantized;
  /** Upstream's avg_loss: Σ(w − q)²/(2·d²) over the layer, per calibration token. */
  loss: number;
  /** The damping that made the Hessian factorisable (≥ dampPercent). */
  dampPercent: number;
}

/** The reference fasterquant's percdamp, which this one-layer API mirrors (test/reference compares against it). */
export const REFERENCE_DAMP_PERCENT = 0.01;

interface GptqAddon {
  gptqQuantize(
    weight: Float32Array,
    rows: number,
    cols: number,
    activationBatches: Float32Array[],
    options: GptqOptions,
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: Int32Array,
  ): Promise<GptqResult>;
}

/**
 * Quantizes `weight` [rows × cols] (row-major, out × in) with the Hessian of `activationBatches`
 * (each [tokens × cols], row-major; batches are averaged as they come).
 */
export function gptqQuantize(
  weight: Float32Array,
  rows: number,
  cols: number,
  activationBatches: Float32Array[],
  options: GptqOptions = {},
  control: QuantRunControl = {},
): Promise<GptqResult> {
  const addon = loadAddon() as unknown as GptqAddon;
  const withDamp = { ...options, dampPercent: options.dampPercent ?? REFERENCE_DAMP_PERCENT };
  return addon.gptqQuantize(weight, rows, cols, activationBatches, withDamp, control.onProgress, cancelFlag(control.signal));
}
