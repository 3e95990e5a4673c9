// What AWQ's search computes in a dense decoder layer (native/src/pipeline/awq_step.cc, native/src/quant/awq.cc), in
// the units of estimateQuantizeTime.ts. Per scale group:
//  - q/k/v (or qkv) and gate/up (or gate_up): the block's output is the loss, so the reference and every grid point
//    run the attention or MLP block over the calibration tokens ((grid + 1) block forwards), and every grid point
//    scales, rounds and unscales the group's weights;
//  - o_proj (only when v's rows feed it one to one: no grouped-query attention) and down_proj: the loss is the
//    linear's own output error, scored through the Gram matrix XᵀX (tokens·cols² once, rows·cols² a grid point) or
//    through the outputs ((grid + 1)·tokens·rows·cols), whichever multiplies less — the engine's UseAwqGram rule;
//  - then each linear but q and k is clip-searched: per row and group, each shrink step's rounding scored as dᵀ·G·d
//    on the group's block of the sampled tokens' Gram matrix (groupSize² multiply-adds), after that block is built.
// A Mixture-of-Experts block (awq_moe_step.cc, GPTQModel 7.7's): one gate/up group over every expert (and the shared
// one) replays the whole block on the packed token rows (max(seq, samples) of them), each expert's down_proj is a
// linear-only group on its own packed rows, and each expert linear is clip-searched on those rows; the estimate takes
// every expert as reached by its share of the tokens (top-k / experts of them), the rows GPTQModel keeps of them
// about max(that share of a sequence, samples). An expert that falls back to RTN skips its search: less time.
import type { QuantizeWork } from './estimateQuantizeTime';

/** The engine's AWQ search settings (AwqOptions defaults, native/src/quant/awq.h; AutoAWQ's and GPTQModel 7.7's). */
export const AWQ_SEARCH = { scaleGrid: 20, clipGrid: 20, clipMaxShrink: 0.5, clipSampleTokens: 512 } as const;

export interface AwqLinearShape {
  /** attn: q/k/v or qkv; o: o_proj; mlp: gate/up or gate_up; down: down_proj. */
  input: 'attn' | 'o' | 'mlp' | 'down';
  /** A routed expert's linear (a shared expert's is not). */
  expert: boolean;
  /** q_proj and k_proj are not clip-searched (their outputs meet in the attention product). */
  clip: boolean;
  rows: number;
  cols: number;
  skipped: boolean;
}

export interface AwqLayerShape {
  linears: AwqLinearShape[];
  /** Whether o_proj's scales fold into v's rows (kv width equals o_proj's input). */
  oFolds: boolean;
  /** Per token: the attention product's multiply-adds (QKᵀ and PV over half the window on average). */
  attentionMacs: number;
}

/** The engine's UseAwqGram: score a linear-only group through XᵀX when that multiplies less. */
export function useAwqGram(tokens: number, rows: number, cols: number, grid = AWQ_SEARCH.scaleGrid): boolean {
  return cols * cols * (tokens + grid * rows) < (grid + 1) * tokens * rows * cols;
}

/** The calibration: its windows and their length. */
export interface AwqCalibration {
  samples: number;
  seqLen: number;
}

/** A MoE layer's routing: experts, top-k, and the router's width (one row per expert). */
export interface AwqRouting {
  experts: number;
  topK: number;
  hidden: number;
}

/** Adds one decoder layer's AWQ search to `work` (routing: the model's, for a layer whose MLP is a MoE block). */
export function addAwqLayerSearch(
  work: QuantizeWork,
  layer: AwqLayerShape,
  calibration: AwqCalibration,
  groupSize: number,
  routing?: AwqRouting,
): void {
  const { scaleGrid: grid, clipGrid, clipMaxShrink, clipSampleTokens } = AWQ_SEARCH;
  const tokens = calibration.samples * calibration.seqLen;
  const moe = routing !== undefined && layer.linears.some((l) => l.expert);
  const of = (input: AwqLinearShape['input']) => layer.linears.filter((l) => l.input === input);
  const macs = (ls: AwqLinearShape[]) => ls.reduce((a, l) => a + l.rows * l.cols, 0);
  const searched = (ls: AwqLinearShape[]) => ls.length > 0 && !ls.some((l) => l.skipped);
  const blockGroup = (ls: AwqLinearShape[], blockMacsPerToken: number, tokens: number) => {
    if (!searched(ls)) return;
    work.forwardFlop += (grid + 1) * 2 * tokens * blockMacsPerToken;
    work.awqFakeElement += grid * macs(ls);
  };
  const linearGroup = (ls: AwqLinearShape[], folds: boolean, tokens: number) => {
    if (!searched(ls) || !folds) return;
    const rows = ls.reduce((a, l) => a + l.rows, 0);
    const cols = ls[0].cols;
    if (useAwqGram(tokens, rows, cols, grid)) {
      work.hessianMac += tokens * cols * cols;
      work.awqGridMac += grid * rows * cols * cols;
    } else {
      work.forwardFlop += (grid + 1) * 2 * tokens * rows * cols;
    }
    work.awqFakeElement += grid * rows * cols;
  };
  const attn = of('attn');
  const o = of('o');
  const mlp = of('mlp');
  const down = of('down');
  blockGroup(attn, macs(attn) + macs(o) + layer.attentionMacs, tokens);
  linearGroup(o, layer.oFolds, tokens);
  // Rows each linear's clip search (and a MoE down_proj's search) reads.
  const rowsOf = new Map<AwqLinearShape, number>();
  if (moe && routing) {
    const { samples, seqLen } = calibration;
    const packed = Math.min(tokens, Math.max(seqLen, samples));
    const perExpert = Math.min((tokens * routing.topK) / routing.experts, Math.max((seqLen * routing.topK) / routing.experts, samples));
    const expertMacs = (ls: AwqLinearShape[]) =>
      ls.reduce((a, l) => a + (l.expert ? (l.rows * l.cols * routing.topK) / routing.experts : l.rows * l.cols), 0);
    blockGroup(mlp, routing.experts * routing.hidden + expertMacs(mlp) + expertMacs(down), packed);
    for (const d of down) linearGroup([d], true, d.expert ? perExpert : packed);
    for (const l of [...mlp, ...down]) rowsOf.set(l, l.expert ? perExpert : packed);
  } else {
    blockGroup(mlp, macs(mlp) + macs(down), tokens);
    linearGroup(down, true, tokens);
  }
  const shrinkSteps = Math.floor(clipMaxShrink * clipGrid);
  for (const l of layer.linears) {
    if (l.skipped || !l.clip) continue;
    const rows = Math.max(1, Math.round(rowsOf.get(l) ?? tokens));
    const sampled = Math.ceil(rows / Math.max(1, Math.floor(rows / clipSampleTokens)));
    const group = groupSize === -1 ? l.cols : groupSize;
    work.awqClipMac += (shrinkSteps * l.rows + sampled) * l.cols * group;
  }
}
