// The wall time of a quantize job on our CPU engine (native/src/pipeline), predicted per phase from what each
// phase computes (FLOPs, multiply-adds, weights, bytes) and the seconds each unit took on this machine at one
// engine thread (quantizeSpeed.ts, measured by test/tools/measure-quantize-speed.mjs). Per decoder layer:
//  - forward passes over the calibration tokens: two per layer (the fp pass, then the quantized pass that feeds the
//    next layer; with true_sequential a dense layer's quantized pass is built stage by stage between its groups,
//    pipeline/gptq_step.cc); a MoE layer with true_sequential still re-runs before each of the o, gate/up and down
//    groups: five;
//  - GPTQ: one Hessian per input (q/k/v share one; each expert's from the tokens routed to it, top-k / experts of
//    them on average), per linear the damped Hessian's inverse Cholesky factor ([cols³]) and the column updates
//    ([rows × cols²]), then packing and dequantizing its codes (per weight, as the direct step);
//  - GPTQ with signRound (pipeline/sign_round_step.cc): no Hessian, Cholesky or column updates; per layer one more
//    forward pass (the full-precision model's stream) and iters steps, each the layer forward and backward on batchSize
//    windows (signRoundFlop) and four fake-quantization passes over its weights, then packing as the direct step;
//  - RTN, NF4, FP4, int8: each linear read into fp32, rounded, packed (per weight);
//  - AWQ: the same two passes, then the scale and clip search (awqSearchWork.ts, Mixture-of-Experts blocks as
//    GPTQModel 7.7 searches them), then packing as the direct step;
//  - the writer: every source byte read and every output byte written; tokenizing the calibration text (JS).
// The engine's kernels split over its threads (time / threads); packing, writing and tokenizing run on one.
import { architectureOf } from './architecture';
import { addAwqLayerSearch } from './awqSearchWork';
import type { AwqLayerShape } from './awqSearchWork';
import type { Result } from './errors';
import { fail, ok } from './errors';
import type { QuantSettings } from './quantSettings';
import { QUANTIZE_SPEED } from './quantizeSpeed';
import type { QuantizeSpeed } from './quantizeSpeed';
import type { ResolvedModel, TensorMeta } from './types';
import { isMoeModel, isQuantizableLinear, isSkipped, moduleOf, quantizedBy, weightLayout } from './weightLayout';

/** What each phase computes, in the units QuantizeSpeed prices; choleskyCols: each Cholesky's width (priced by width). */
export type QuantizeWork = Record<keyof QuantizeSpeed, number> & { choleskyCols: number[] };

export interface QuantizeTimeOptions {
  algorithm: 'gptq' | 'awq' | 'rtn' | 'nf4' | 'fp4' | 'int8';
  samples: number;
  seqLen: number;
  trueSequential: boolean;
  /** GPTQ with GPTAQ (gptaq set): one more forward pass per layer (the full-precision model's), a cross moment per
   *  Hessian, and per linear its correction P (2·cols³) and a second lazy update. */
  gptaq?: boolean;
  /** GPTQ with mixedPrecision (pipeline/width_sensitivity.cc): on this many windows, each layer rounded to two widths and
   *  run with every layer after it and the head twice (the quantized and the full-precision rows), plus the
   *  full-precision pass that feeds the layers and the one that gives the reference rows. */
  mixedPrecisionSamples?: number;
  /** GPTQ with signRound: signed-gradient steps per decoder layer and calibration windows per step. */
  signRound?: SignRoundWork;
  threads: number;
  calibrationTextBytes: number;
}

export interface SignRoundWork {
  iters: number;
  batchSize: number;
}

export interface PhaseTime {
  phase: keyof QuantizeSpeed;
  label: string;
  seconds: number;
}

export interface QuantizeTime {
  seconds: number;
  phases: PhaseTime[];
  threads: number;
}

const PHASE_LABELS: Readonly<Record<keyof QuantizeSpeed, string>> = {
  forwardFlop: "calibration forwards through each layer (and AWQ's block replays, signRound's steps)",
  hessianMac: 'GPTQ Hessians',
  choleskyCube: "GPTQ: each Hessian's inverse Cholesky factor",
  updateMac: 'GPTQ column updates',
  awqGridMac: "AWQ: scoring o_proj's and down_proj's grid points on XᵀX",
  awqFakeElement: "AWQ: rounding each grid point's scaled weights (and signRound's per-step rounding)",
  awqClipMac: 'AWQ clip search',
  weightElement: 'reading, rounding and packing the weights',
  bnbElement: 'reading and quantizing the weights (bitsandbytes)',
  ioByte: 'reading the source and writing the checkpoint',
  tokenizeByte: 'tokenizing the calibration text',
};
/** Phases the engine's thread pool splits. */
const PARALLEL: ReadonlySet<keyof QuantizeSpeed> = new Set([
  'forwardFlop',
  'hessianMac',
  'choleskyCube',
  'updateMac',
  'awqGridMac',
  'awqFakeElement',
  'awqClipMac',
]);

const layerOf = (name: string): string | undefined => /^(.*?(?:layers|h|blocks)\.\d+)\./.exec(name)?.[1];
const expertOf = (name: string): number | undefined => {
  const m = /\.experts\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
};
/** Which captured input a linear reads (the GPTQ group it belongs to), from its module name. */
function inputOf(name: string): 'attn' | 'o' | 'mlp' | 'down' {
  const leaf = moduleOf(name).split('.').pop() ?? '';
  if (/^(q_proj|k_proj|v_proj|qkv_proj|query_key_value|c_attn)$/.test(leaf)) return 'attn';
  if (/^(o_proj|out_proj|dense|c_proj)$/.test(leaf) && /attn|attention/.test(name)) return 'o';
  if (/^(down_proj|fc2|w2|c_proj|dense_4h_to_h)$/.test(leaf)) return 'down';
  return 'mlp';
}
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function quantizeWork(model: ResolvedModel, settings: QuantSettings, o: QuantizeTimeOptions): Result<QuantizeWork> {
  if (settings.method === 'none')
    return fail('invalid', 'a quantize job needs a quantization method', 'quantize time options', "pass the job's quantization config");
  const archResult = architectureOf(model.config, `${model.ref}/config.json`);
  if (!archResult.ok) return archResult;
  const arch = archResult.value;
  const gptq = o.algorithm === 'gptq';
  const signRound = gptq ? o.signRound : undefined;
  const awq = o.algorithm === 'awq';
  const calibrated = gptq || awq;
  const bnb = o.algorithm === 'nf4' || o.algorithm === 'fp4' || o.algorithm === 'int8';
  const tokens = calibrated ? o.samples * o.seqLen : 0;
  const experts = num(model.config.num_local_experts) || num(model.config.num_experts);
  const topK = num(model.config.num_experts_per_tok);
  const routedTokens = experts > 0 && topK > 0 ? (tokens * topK) / experts : tokens;
  const work: QuantizeWork = {
    forwardFlop: 0,
    hessianMac: 0,
    choleskyCube: 0,
    updateMac: 0,
    weightElement: 0,
    bnbElement: 0,
    ioByte: 0,
    awqGridMac: 0,
    awqFakeElement: 0,
    awqClipMac: 0,
    tokenizeByte: 0,
    choleskyCols: [],
  };
  const linears = model.tensors.filter(isQuantizableLinear);
  const skip = settings.skip;
  // The linears the method converts (bitsandbytes leaves a MoE model's routed experts as stored, weightLayout.ts).
  const moeModel = isMoeModel(model.tensors);
  const quantized = (t: TensorMeta): boolean => quantizedBy(t, settings.method, moeModel) && !isSkipped(moduleOf(t.name), skip);
  const hessians = new Map<string, { cols: number; tokens: number }>();
  let forwardMacs = 0; // per token, summed over layers
  for (const t of linears) {
    const [rows, cols] = t.shape;
    const expert = expertOf(t.name);
    forwardMacs += expert === undefined ? rows * cols : (rows * cols * topK) / experts;
    if (!quantized(t)) continue;
    work[bnb ? 'bnbElement' : 'weightElement'] += rows * cols;
    if (!gptq || signRound) continue;
    const input = inputOf(t.name);
    hessians.set(`${layerOf(t.name)}/${input}/${expert ?? ''}`, { cols, tokens: expert === undefined ? tokens : routedTokens });
    work.choleskyCube += cols ** 3;
    work.choleskyCols.push(cols);
    work.updateMac += rows * cols * cols;
    if (o.gptaq) work.updateMac += rows * cols * cols + 2 * cols ** 3;
  }
  // GPTAQ's cross moment is a full product: twice the Hessian's lower triangle.
  for (const h of hessians.values()) work.hessianMac += (o.gptaq ? 3 : 1) * h.tokens * h.cols * h.cols;
  if (calibrated) {
    // GPTAQ and signRound run the full-precision model's stream through each layer too.
    const passes = (gptq && o.trueSequential && experts > 0 ? 5 : 2) + (gptq && (o.gptaq || signRound) ? 1 : 0);
    const routers = experts > 0 ? arch.layers * experts * arch.hidden : 0;
    // Causal attention: QKᵀ and PV over half the window on average, per head.
    const attention = arch.layers * o.seqLen * arch.heads * arch.headDim;
    work.forwardFlop = passes * 2 * tokens * (forwardMacs + routers + attention);
    work.tokenizeByte = o.calibrationTextBytes;
  }
  if (signRound) {
    work.forwardFlop += signRoundFlop(arch, forwardMacs, signRound, o);
    // Each step rounds every quantized weight with its offset, carries the gradient back through the rounding, moves
    // the offsets and transposes the weights for the input gradients: about four fake-quantization passes.
    const weights = linears.filter(quantized).reduce((a, t) => a + t.shape[0]! * t.shape[1]!, 0);
    work.awqFakeElement += SIGN_ROUND_PASSES * signRound.iters * weights;
  }
  const measured = gptq ? (o.mixedPrecisionSamples ?? 0) : 0;
  if (measured > 0) {
    const widths = 2;
    const layerMacs = (forwardMacs + arch.layers * o.seqLen * arch.heads * arch.headDim) / arch.layers;
    const layerPasses = (widths * arch.layers * (arch.layers + 1)) / 2 + 2 * arch.layers;
    const heads = widths * arch.layers * 2 + 1;
    const vocab = num(model.config.vocab_size);
    work.forwardFlop += 2 * measured * o.seqLen * (layerPasses * layerMacs + heads * vocab * arch.hidden);
    work.weightElement += widths * linears.filter(quantized).reduce((a, t) => a + t.shape[0]! * t.shape[1]!, 0);
  }
  if (awq && settings.method === 'awq') {
    const attentionMacs = o.seqLen * arch.heads * arch.headDim;
    const routing = experts > 0 && topK > 0 ? { experts, topK, hidden: arch.hidden } : undefined;
    for (const layer of awqLayers(linears, quantized, arch.kvHeads * arch.headDim, attentionMacs))
      addAwqLayerSearch(work, layer, { samples: o.samples, seqLen: o.seqLen }, settings.groupSize, routing);
  }
  const sourceBytes = model.tensors.reduce((a, t) => a + t.bytes, 0);
  work.ioByte = sourceBytes + weightLayout(model.tensors, settings, arch.computeDtype).totalBytes;
  return ok(work);
}

/** signRound's per-weight work per step, in AWQ's fake-quantization passes (the same scale, round and unscale per
 *  weight): the rounding with its offset, the gradient through it, the signed step and the weights' transpose. */
const SIGN_ROUND_PASSES = 4;

/** signRound's steps over all layers, in FLOPs (2 per multiply-add): per step and layer, the linears forward (1×) and
 *  backward (2×: input and weight gradients) on batchSize × seqLen tokens, and attention's 2 products forward and 5
 *  backward (the probabilities recomputed), each over the whole window (block_gradient.cc runs them as full
 *  matrices, the causal half masked). forwardMacs: the linears' multiply-adds per token over all layers (dense: the
 *  engine refuses MoE). */
function signRoundFlop(
  arch: { layers: number; heads: number; headDim: number },
  forwardMacs: number,
  s: SignRoundWork,
  o: { samples: number; seqLen: number },
): number {
  const batchTokens = Math.min(s.batchSize, o.samples) * o.seqLen;
  const linearMacs = 3 * forwardMacs * batchTokens;
  const attentionMacs = arch.layers * batchTokens * arch.heads * o.seqLen * arch.headDim * 7;
  return s.iters * 2 * (linearMacs + attentionMacs);
}

/** Each decoder layer's linears as the AWQ search sees them (dense layers). */
function awqLayers(linears: TensorMeta[], quantized: (t: TensorMeta) => boolean, kvWidth: number, attentionMacs: number): AwqLayerShape[] {
  const layers = new Map<string, AwqLayerShape>();
  for (const t of linears) {
    const key = layerOf(t.name);
    if (key === undefined) continue;
    const layer = layers.get(key) ?? { linears: [], oFolds: false, attentionMacs };
    layers.set(key, layer);
    const [rows, cols] = t.shape;
    const input = inputOf(t.name);
    const leaf = moduleOf(t.name).split('.').pop() ?? '';
    layer.linears.push({
      input,
      expert: expertOf(t.name) !== undefined,
      clip: leaf !== 'q_proj' && leaf !== 'k_proj',
      rows,
      cols,
      skipped: !quantized(t),
    });
    if (input === 'o') layer.oFolds = cols === kvWidth;
  }
  return [...layers.values()];
}

/** Seconds per cols³ at a width: linear between the measured widths, the nearest one outside them. */
export function perCube(table: QuantizeSpeed['choleskyCube'], cols: number): number {
  const above = table.findIndex(([c]) => c >= cols);
  if (above === 0) return table[0][1];
  if (above < 0) return table[table.length - 1][1];
  const [c0, s0] = table[above - 1];
  const [c1, s1] = table[above];
  return s0 + ((s1 - s0) * (cols - c0)) / (c1 - c0);
}

function secondsOf(phase: keyof QuantizeSpeed, work: QuantizeWork, speed: QuantizeSpeed): number {
  if (phase === 'choleskyCube') return work.choleskyCols.reduce((a, cols) => a + cols ** 3 * perCube(speed.choleskyCube, cols), 0);
  return work[phase] * speed[phase];
}

/** Seconds per phase at `threads` engine threads, from the work and the machine's speed at one thread. */
export function quantizeTime(work: QuantizeWork, threads: number, speed: QuantizeSpeed = QUANTIZE_SPEED): QuantizeTime {
  const phases = (Object.keys(PHASE_LABELS) as Array<keyof QuantizeSpeed>)
    .filter((phase) => work[phase] > 0)
    .map((phase) => ({
      phase,
      label: PHASE_LABELS[phase],
      seconds: secondsOf(phase, work, speed) / (PARALLEL.has(phase) ? threads : 1),
    }));
  return { seconds: phases.reduce((a, p) => a + p.seconds, 0), phases, threads };
}

export function estimateQuantizeTime(model: ResolvedModel, settings: QuantSettings, o: QuantizeTimeOptions): Result<QuantizeTime> {
  const work = quantizeWork(model, settings, o);
  return work.ok ? ok(quantizeTime(work.value, o.threads)) : work;
}
