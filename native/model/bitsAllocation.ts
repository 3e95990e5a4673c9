// Mixed precision by sensitivity: which decoder layers a GPTQ job widens to spend a bits-per-weight budget, written
// as GPTQModel 7.7's `dynamic` (one "+:" key per widened layer, after the config's own keys, so a module the user
// already decides keeps its setting) — the checkpoint loads wherever a `dynamic` GPTQ checkpoint loads. The engine
// measures each layer's sensitivity (native/src/pipeline/width_sensitivity.h): how far the model's next-token
// distributions move from the full-precision model's with that layer alone rounded to each width. Layers are widened in
// order of divergence saved per stored bit.
import { QuantizeConfigError } from './pipelinePlan';
import type { JsonObject, TensorMeta } from './types';
import { quantSettingsOf } from './quantSettings';
import { bitsPerWeightOf, isQuantizableLinear, weightLayout } from './weightLayout';

/** The job's `mixedPrecision`: a budget, the wider width (default: the next width GPTQ stores above the config's
 *  bits) and how many calibration windows the sensitivity is measured on. */
export interface MixedPrecisionOptions {
  bitsPerWeight: number;
  bits?: number;
  samples?: number;
}

/** schemas/job.schema.json's defaults of `mixedPrecision` (a unit test holds them equal): enough calibration windows
 *  to rank the layers, a fraction of what GPTQ calibrates on. */
export const mixedPrecisionDefaults = { samples: 16 } as const;

/** What the engine measured: per layer, the mean KL divergence per predicted token of the model's next-token
 *  distributions from the full-precision model's with that layer alone at each width (base, wide). */
export interface WidthSensitivity {
  /** The full-precision model's mean NLL of the same tokens, for scale. */
  fpNll: number;
  /** Calibration windows measured, and the tokens predicted on them. */
  samples: number;
  tokens: number;
  seconds: number;
  layers: { layer: string; kl: number[] }[];
}

export interface LayerChoice {
  layer: string;
  /** KL divergence from the full-precision model saved by the wide width over the base one (nats per token). */
  gain: number;
  /** Bits per weight the wide width adds to the whole model. */
  cost: number;
  widened: boolean;
}

export interface BitsAllocation {
  target: number;
  /** The checkpoint's bits per weight with the widened layers (codes, scales, zeros, g_idx). */
  bitsPerWeight: number;
  baseBits: number;
  wideBits: number;
  /** In the order the engine measured them (the model's). */
  layers: LayerChoice[];
  /** The config's `dynamic` with one key per widened layer appended. */
  dynamic: JsonObject;
  samples: number;
  fpNll: number;
  seconds: number;
}

/** GPTQ's stored widths (GPTQModel 7.7 quantizer bits 2, 3, 4, 8). */
const GPTQ_WIDTHS = [2, 3, 4, 8];

/** The widths a job measures: its config's bits and the wider one. */
export function mixedPrecisionWidths(config: JsonObject, options: MixedPrecisionOptions): { base: number; wide: number } {
  const where = 'mixedPrecision';
  if (config['quant_method'] !== 'gptq') {
    throw new QuantizeConfigError(`${where}: GPTQ jobs only (GPTQModel's dynamic carries each layer's width)`);
  }
  const base = typeof config['bits'] === 'number' ? config['bits'] : 4;
  const wide = options.bits ?? GPTQ_WIDTHS.find((b) => b > base);
  if (wide === undefined || !GPTQ_WIDTHS.includes(wide) || wide <= base) {
    throw new QuantizeConfigError(
      `${where}.bits: give a width GPTQ stores above the config's bits ${base} (${GPTQ_WIDTHS.filter((b) => b > base).join(', ') || 'none'})`,
    );
  }
  return { base, wide };
}

/** `model.layers.3` → the `dynamic` key that widens every module of that layer. */
export function layerDynamicKey(layer: string): string {
  return `+:${layer.replace(/\./g, '\\.')}\\..*`;
}

function bitsPerWeight(tensors: readonly TensorMeta[], config: JsonObject): number {
  const settings = quantSettingsOf(config, 'quantization_config');
  if (!settings.ok) throw new QuantizeConfigError(`${settings.error.where}: ${settings.error.message}`);
  const bpw = bitsPerWeightOf(weightLayout(tensors, settings.value, 'float16')).bitsPerWeight;
  if (bpw === undefined) throw new QuantizeConfigError('mixedPrecision: the config quantizes no linear of this model');
  return bpw;
}

function withWidened(config: JsonObject, layers: readonly string[], wide: number): JsonObject {
  const own = (config['dynamic'] as JsonObject | undefined) ?? {};
  const dynamic: JsonObject = { ...own };
  for (const layer of layers) dynamic[layerDynamicKey(layer)] = { bits: wide };
  return { ...config, dynamic };
}

const LAYER = /^(.*\.layers\.(\d+))\./;

/** The model's decoder layers holding quantizable linears, by index (`model.layers.0`, OPT's `model.decoder.layers.0`). */
export function decoderLayersOf(tensors: readonly TensorMeta[]): string[] {
  const byIndex = new Map<number, string>();
  for (const t of tensors) {
    const m = isQuantizableLinear(t) ? LAYER.exec(t.name) : null;
    if (m) byIndex.set(Number(m[2]), m[1]!);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, name]) => name);
}

/** The bits per weight this model stores with every decoder layer at the config's width and with every one at the wide width. */
export function budgetRange(
  tensors: readonly TensorMeta[],
  config: JsonObject,
  options: Pick<MixedPrecisionOptions, 'bits'>,
): { low: number; high: number } {
  const { wide } = mixedPrecisionWidths(config, { bitsPerWeight: 0, ...options });
  return { low: bitsPerWeight(tensors, config), high: bitsPerWeight(tensors, withWidened(config, decoderLayersOf(tensors), wide)) };
}

/** Throws a QuantizeConfigError naming both ends of budgetRange when the target lies outside [low, high). */
export function checkBudget(tensors: readonly TensorMeta[], config: JsonObject, options: MixedPrecisionOptions): void {
  const { wide } = mixedPrecisionWidths(config, options);
  const { low, high } = budgetRange(tensors, config, options);
  const t = options.bitsPerWeight;
  if (!(t >= low && t < high)) {
    throw new QuantizeConfigError(
      `mixedPrecision.bitsPerWeight ${t}: this model stores ${low.toFixed(2)} bits per weight at bits ${String(config['bits'])} and ` +
        `${high.toFixed(2)} at ${wide}; give a budget from ${low.toFixed(2)} to below ${high.toFixed(2)}`,
    );
  }
}

/** Spends the budget on the layers that save the most divergence per bit (greedy; a layer whose wide width
 *  saves nothing stays at the base width). */
export function allocateBits(
  tensors: readonly TensorMeta[],
  config: JsonObject,
  options: MixedPrecisionOptions,
  sensitivity: WidthSensitivity,
): BitsAllocation {
  const { base, wide } = mixedPrecisionWidths(config, options);
  checkBudget(tensors, config, options);
  const low = bitsPerWeight(tensors, config);
  const choices: LayerChoice[] = sensitivity.layers.map((l) => ({
    layer: l.layer,
    gain: l.kl[0]! - l.kl[1]!,
    cost: bitsPerWeight(tensors, withWidened(config, [l.layer], wide)) - low,
    widened: false,
  }));
  const order = [...choices].sort((a, b) => b.gain / b.cost - a.gain / a.cost);
  let spent = low;
  for (const c of order) {
    if (c.gain <= 0 || c.cost <= 0 || spent + c.cost > options.bitsPerWeight + 1e-9) continue;
    c.widened = true;
    spent += c.cost;
  }
  const widened = choices.filter((c) => c.widened).map((c) => c.layer);
  const chosen = withWidened(config, widened, wide);
  return {
    target: options.bitsPerWeight,
    bitsPerWeight: bitsPerWeight(tensors, chosen),
    baseBits: base,
    wideBits: wide,
    layers: choices,
    dynamic: chosen['dynamic'] as JsonObject,
    samples: sensitivity.samples,
    fpNll: sensitivity.fpNll,
    seconds: sensitivity.seconds,
  };
}
