// The peak RSS of a quantize job on our CPU engine (native/src/pipeline), which works layer by layer:
//  - the source weights stay mapped; every tensor is read once (the linears into the working layer, the rest
//    by the writer), so by the end all its pages count, though the system can drop them (page cache). The peak
//    is the larger of two phases: the last layer's step, with the decoder layers mapped (and the embedding rows
//    calibration read), and the write, with everything mapped and the heap a layer's buffers left (freed, not
//    returned: they lie between the packed tensors);
//  - the packed tensors of every quantized linear stay on the heap until the writer streams them at the end;
//  - one decoder layer's linears as fp32 copies (every linear with calibration, which the forward runs; else only
//    those the method converts), plus, for weight-only methods, one dequantized linear;
//  - with calibration (GPTQ, AWQ): the activations entering the layer, the fp layer's outputs and the quantized
//    layer's outputs [samples × seq × hidden] fp32, and the linears' inputs captured over all samples (attention
//    input, o_proj input, MLP input, down_proj input); with true_sequential GPTQ keeps only the attention input of
//    those and computes each later group's input from the previous one (pipeline/gptq_step.cc), holding the two
//    beside each other and, from the MLP input on, the quantized outputs; without it a group frees its input after
//    its own Hessian;
//  - GPTQ per linear group: the Hessian [cols²] in double plus the damped copy and the three [cols²] doubles
//    of the inverse's Cholesky factor (quant/gptq.cc, quant/linalg.cc), a fp32 copy of the weight, and the
//    Hessian's transposed token chunk and product block (quant/hessian.cc); GPTAQ adds the full-precision model's
//    activations and taps, and per linear its cross moment and correction (gptaqWork);
//  - GPTQ with signRound (signRoundStep): no captured inputs and no Hessian work; the full-precision model's stream
//    (its layer input and output), per quantized weight five fp32 buffers and one linear's transpose, and one batch's
//    saved activations;
//  - AWQ (awqDenseSearch): the largest scale group's search — a block group's reference and candidate outputs
//    (two [tokens × hidden] fp32) with its candidate weights and their substituted copies; a linear-only group's
//    Gram matrix (double while built, then fp32) or its fp and candidate outputs (awqSearchWork.ts's rule);
//  - Mixture-of-Experts layers: the experts' captured inputs, each token's hidden row once per routed expert (top-k
//    of them) and its down_proj input [top-k · tokens × expert width]; AWQ's one gate/up scale group over every expert
//    (awq_moe_step.cc) holds two fp32 copies of all their gate/up weights (the candidates and the block that runs
//    them), and its features packed as GPTQModel 7.7's token rows (at most max(seq, samples) rows per expert);
//  - the worker process (a quantize job's own baseline), its tokenizer and what tokenizing the calibration text leaves in V8's heap
//    (calibration only), and the engine threads (cpuEngineConstants.ts).
import { architectureOf } from './architecture';
import type { Architecture } from './architecture';
import { useAwqGram } from './awqSearchWork';
import { CPU_ENGINE_CONSTANTS } from './cpuEngineConstants';
import type { CpuEngineConstants } from './cpuEngineConstants';
import type { Result } from './errors';
import { fail, ok } from './errors';
import type { BreakdownLine, MemoryEstimate } from './estimate';
import type { QuantSettings } from './quantSettings';
import { describeSettings } from './quantSettings';
import type { ResolvedModel, TensorMeta } from './types';
import { isMoeModel, isQuantizableLinear, isSkipped, moduleOf, quantizedBy, weightLayout } from './weightLayout';
import { ModelConfigError } from './modelConfig';
import type { MoeSettings } from './moeConfig';
import { parseRuntimeConfig } from './runtimeConfig';

const F32 = 4;
const F64 = 8;
/** Rows of a kernel panel (as in estimateCpu.ts). */
const PANEL_ROWS = 16;

export interface CpuQuantizeOptions {
  /** What the engine runs (lib/quantize.ts planFromConfig): the config's method, or RTN for --algorithm rtn. */
  algorithm: 'gptq' | 'awq' | 'rtn' | 'nf4' | 'fp4' | 'int8';
  /** Calibration windows and their tokens (GPTQ, AWQ). */
  samples: number;
  seqLen: number;
  /** GPTQ re-captures the layer's inputs before each linear group (true_sequential, upstream's default). */
  trueSequential: boolean;
  /** GPTQ with GPTAQ: the full-precision model's activations and linear inputs ride along. */
  gptaq?: boolean;
  /** GPTQ with mixedPrecision: the calibration windows each layer's sensitivity is measured on (0 or absent: none). Its
   *  measurement holds three copies of those windows' activations and one layer's fp32 weights, under GPTQ's peak
   *  while they are fewer than two thirds of the calibration windows (the default 16 of 128 is). */
  mixedPrecisionSamples?: number;
  /** GPTQ with signRound: signed-gradient steps per decoder layer and calibration windows per step. */
  signRound?: { iters: number; batchSize: number };
  threads: number;
  /** Size of the model's tokenizer.json (loaded for calibration). */
  tokenizerBytes: number;
  /** Bytes of calibration text the job tokenizes (0 when it is given token ids). */
  calibrationTextBytes: number;
  constants?: CpuEngineConstants;
}

const numel = (t: TensorMeta): number => t.shape.reduce((a, b) => a * b, 1);
const layerOf = (name: string): string | undefined => /^(.*?(?:layers|h|blocks)\.\d+)\./.exec(name)?.[1];

/** Tokens per Hessian product and rows per product block (native/src/quant/hessian.cc kChunk, kRowBlock); GPTQ's
 *  lazy-update block and columns per update product (quant/gptq.cc blockSize, quant/linalg.cc kProductColumns). */
const HESSIAN_CHUNK = 512;
const HESSIAN_ROW_BLOCK = 256;
const GPTQ_BLOCK = 128;
const UPDATE_COLUMNS = 512;

/** GPTQ's heap for one linear of a group of `cols` inputs besides the Hessian: five [cols²] doubles at the
 *  Cholesky step (the copy, the damped copy, the reversed factor, Ũ, U), the weight's fp32 copy, the Hessian's
 *  fp32 chunk [cols × 512] and block [256 × cols] (freed before the Cholesky step: a bound), and the lazy update's
 *  transposed block [cols × 128] and product [rows × 512]. */
const gptqWork = (cols: number, rows: number): number =>
  5 * F64 * cols * cols +
  F32 * rows * cols +
  F32 * cols * (HESSIAN_CHUNK + HESSIAN_ROW_BLOCK) +
  F32 * (cols * GPTQ_BLOCK + rows * UPDATE_COLUMNS);

/** GPTAQ's heap for one linear beyond GPTQ's peak: its cross moment [cols²] double and the quantizer's permuted
 *  copy, both alive at the Cholesky step (quant/gptq.cc). The correction P's fp32 working set comes after that
 *  step's buffers are freed and is smaller; the moment's token chunks are freed before it (quant/hessian.cc). */
const gptaqWork = (cols: number): number => 2 * F64 * cols * cols;

/** signRound's heap for one layer beyond the layer input and fp outputs (pipeline/sign_round_step.cc): the
 *  full-precision model's layer input and output (a each); per quantized weight its offset, the offset's gradient and
 *  best copy, the dequantized weight and the weight's gradient (fp32), and one linear's transpose at a time; and per
 *  token of one batch what the forward pass keeps and the backward pass adds (block_gradient.cc) with the batch's
 *  inputs, targets, outputs and their gradient: 10 of hidden width, 4 of q width, 4 of kv width and 5 of the MLP's. */
function signRoundStep(arch: Architecture, a: number, weights: number, largestLinear: number, batchTokens: number): number {
  const qWidth = arch.heads * arch.headDim;
  const kvWidth = arch.kvHeads * arch.headDim;
  const saved = F32 * batchTokens * (10 * arch.hidden + 4 * qWidth + 4 * kvWidth + 5 * arch.intermediate);
  return 2 * a + 5 * F32 * weights + F32 * largestLinear + saved;
}

/** The MoE settings the runtime reads from the config (none for a dense model or one it cannot parse). */
function moeOf(config: ResolvedModel['config']): MoeSettings | undefined {
  try {
    return parseRuntimeConfig(config, 'config.json').moe;
  } catch (error) {
    if (!(error instanceof ModelConfigError)) throw error;
    return undefined;
  }
}

/** AWQ's MoE gate/up scale search beyond the captured inputs: the candidate and substituted copies of every expert's
 *  (and the shared expert's) gate/up, the packed features (gate and up one copy each, down), the packed block input
 *  with its reference and candidate outputs. */
function awqMoeSearch(moe: MoeSettings, hidden: number, tokens: number, samples: number, seqLen: number): number {
  const perBatch = Math.max(seqLen, samples);
  const packed = Math.min(moe.topK * tokens, moe.experts * perBatch);
  const gateUp = 2 * hidden * (moe.experts * moe.expertIntermediateSize + moe.sharedExpertIntermediateSize);
  const features = packed * (2 * hidden + moe.expertIntermediateSize) + perBatch * (5 * hidden + moe.sharedExpertIntermediateSize);
  return F32 * (2 * gateUp + features);
}

/** AWQ's largest dense scale-group search beyond the captured inputs (a, one [tokens × hidden] fp32; awq_step.cc). */
function awqDenseSearch(arch: Architecture, tokens: number, a: number): number {
  const qWidth = arch.heads * arch.headDim;
  const kvWidth = arch.kvHeads * arch.headDim;
  const linearOnly = (rows: number, cols: number) =>
    useAwqGram(tokens, rows, cols)
      ? Math.max((F64 + F32) * cols * cols, F32 * (cols * cols + rows * cols))
      : F32 * (2 * tokens * rows + rows * cols);
  return Math.max(
    2 * a + 2 * F32 * arch.hidden * (qWidth + 2 * kvWidth),
    kvWidth === qWidth ? linearOnly(arch.hidden, qWidth) : 0,
    2 * a + 2 * F32 * arch.hidden * 2 * arch.intermediate,
    linearOnly(arch.hidden, arch.intermediate),
  );
}

export function estimateCpuQuantize(model: ResolvedModel, settings: QuantSettings, o: CpuQuantizeOptions): Result<MemoryEstimate> {
  const calibrated = o.algorithm === 'gptq' || o.algorithm === 'awq';
  const counts = [
    ['threads', o.threads, 1],
    ['tokenizerBytes', o.tokenizerBytes, 0],
    ['calibrationTextBytes', o.calibrationTextBytes, 0],
  ];
  const bad = [
    ...counts,
    ...(calibrated
      ? [
          ['samples', o.samples, 1],
          ['seqLen', o.seqLen, 1],
        ]
      : []),
  ].find(([, v, min]) => !(Number.isInteger(v) && (v as number) >= (min as number)));
  if (bad)
    return fail(
      'invalid',
      `${bad[0]} ${bad[1]} must be an integer of at least ${bad[2]}`,
      'quantize estimate options',
      'pass threads, the tokenizer size and the calibration windows',
    );
  if (settings.method === 'none')
    return fail('invalid', 'a quantize job needs a quantization method', 'quantize estimate options', "pass the job's quantization config");
  const archResult = architectureOf(model.config, `${model.ref}/config.json`);
  if (!archResult.ok) return archResult;
  const arch = archResult.value;
  const c = o.constants ?? CPU_ENGINE_CONSTANTS;

  // What is mapped, what the output holds on the heap until written.
  const sourceBytes = model.tensors.reduce((a, t) => a + t.bytes, 0);
  // The linears this method converts (bitsandbytes leaves a MoE model's routed experts as stored, weightLayout.ts).
  const moeModel = isMoeModel(model.tensors);
  const converted = (t: TensorMeta): boolean => quantizedBy(t, settings.method, moeModel);
  const quantized = (t: TensorMeta): boolean => converted(t) && !isSkipped(moduleOf(t.name), settings.skip);
  const packedBytes = weightLayout(model.tensors, settings, arch.computeDtype).quantizedBytes;

  const inLayers = model.tensors.filter((t) => layerOf(t.name) !== undefined).reduce((a, t) => a + t.bytes, 0);
  const embeddingBytes = model.tensors.filter((t) => /(^|\.)(embed_tokens|wte)\.weight$/.test(t.name)).reduce((a, t) => a + t.bytes, 0);
  const rowsRead = calibrated ? Math.min(embeddingBytes, o.samples * o.seqLen * c.mappedWindowBytes) : 0;

  // One decoder layer's linears in fp32 (the largest layer), and its largest linear; signRound: its quantized weights.
  const perLayer = new Map<string, number>();
  const quantizedPerLayer = new Map<string, number>();
  let largestLinear = 0;
  // A calibration forward runs every linear, kept ones too (pipeline.cc LoadWeights); the direct step holds only
  // those it converts.
  for (const t of model.tensors.filter(calibrated ? isQuantizableLinear : quantized)) {
    const layer = layerOf(t.name) ?? t.name;
    perLayer.set(layer, (perLayer.get(layer) ?? 0) + numel(t));
    largestLinear = Math.max(largestLinear, numel(t));
    if (quantized(t)) quantizedPerLayer.set(layer, (quantizedPerLayer.get(layer) ?? 0) + numel(t));
  }
  const workingLayer = F32 * Math.max(0, ...perLayer.values());

  const lines: BreakdownLine[] = [
    { label: 'source weights (mapped, each read once)', bytes: sourceBytes, count: model.tensors.length },
    { label: 'quantized tensors (held until written)', bytes: packedBytes, count: model.tensors.filter(quantized).length },
    { label: 'working layer (fp32 linears)', bytes: workingLayer, count: perLayer.size > 0 ? 1 : 0 },
  ];
  // The heap that depends on the step: with calibration, the layer input and the fp outputs plus the largest of
  // the capture / quantize steps or the quantized outputs (allocated after the steps); else one dequantized linear.
  let stepBytes: number;
  if (calibrated) {
    const tokens = o.samples * o.seqLen;
    const a = F32 * tokens * arch.hidden;
    const qWidth = arch.heads * arch.headDim;
    // The captured inputs of q/k/v, o, gate/up and down: each group's width (cols) and outputs (rows).
    // tokens: the rows captured (each routed expert's rows together: top-k per token).
    const moe = moeOf(model.config);
    const routed = moe ? moe.topK * tokens : 0;
    const mlp = moe
      ? [
          { cols: arch.hidden, rows: 2 * moe.sharedExpertIntermediateSize, tokens },
          ...(moe.sharedExpertIntermediateSize > 0 ? [{ cols: moe.sharedExpertIntermediateSize, rows: arch.hidden, tokens }] : []),
          { cols: arch.hidden, rows: 2 * moe.expertIntermediateSize, tokens: routed },
          { cols: moe.expertIntermediateSize, rows: arch.hidden, tokens: routed },
        ]
      : [
          { cols: arch.hidden, rows: 2 * arch.intermediate, tokens },
          { cols: arch.intermediate, rows: arch.hidden, tokens },
        ];
    const groups = [
      { cols: arch.hidden, rows: qWidth + 2 * arch.kvHeads * arch.headDim, tokens },
      { cols: qWidth, rows: arch.hidden, tokens },
      ...mlp,
    ];
    const taps = groups.reduce((sum, g) => sum + F32 * g.tokens * g.cols, 0);
    let step = taps;
    const gptaq = o.algorithm === 'gptq' && o.gptaq === true && !moe;
    const signRound = o.algorithm === 'gptq' ? o.signRound : undefined;
    const quantizeGroup = (g: { cols: number; rows: number }) =>
      F64 * g.cols * g.cols + gptqWork(g.cols, g.rows) + (gptaq ? gptaqWork(g.cols) : 0);
    if (signRound) {
      const batchTokens = Math.min(signRound.batchSize, o.samples) * o.seqLen;
      step = signRoundStep(arch, a, Math.max(0, ...quantizedPerLayer.values()), largestLinear, batchTokens);
    } else if (o.algorithm === 'gptq' && o.trueSequential && !moe) {
      // After the fp pass (all taps): each group quantized with its input held for the next stage, each stage
      // holding its input and output, the quantized outputs (a) from the MLP input on; qOut then counts here.
      // GPTAQ: the full-precision model's layer input and output (2a while its pass runs, then its output a) and its
      // taps of every group, each freed once that group's cross moment is built.
      const [attn, oProj, mlp, down] = groups.map((g) => F32 * tokens * g.cols);
      const native = (after: number) => (gptaq ? a + [oProj + mlp + down, mlp + down, down, 0][after] : 0);
      step = Math.max(
        taps + (gptaq ? 2 * a + taps : 0),
        attn + quantizeGroup(groups[0]) + native(0),
        attn + oProj + native(0),
        oProj + quantizeGroup(groups[1]) + native(1),
        oProj + a + mlp + native(1),
        a + mlp + quantizeGroup(groups[2]) + native(2),
        a + mlp + down + native(2),
        a + down + quantizeGroup(groups[3]) + native(3),
      );
    } else if (o.algorithm === 'gptq') {
      // A group's input is freed once its Hessian is built; the others are held meanwhile (a MoE layer re-captures).
      let held = taps;
      for (const g of groups) {
        held -= F32 * g.tokens * g.cols;
        step = Math.max(step, held + quantizeGroup(g));
        // A MoE layer under true_sequential still re-runs the layer (all taps again) before each group.
        if (o.trueSequential) held = taps;
      }
      // GPTAQ without true_sequential (dense only): a bound, every full-precision tap and its layer input and output.
      if (gptaq) step += taps + 2 * a;
    } else {
      step = taps + (moe ? Math.max(2 * a, awqMoeSearch(moe, arch.hidden, tokens, o.samples, o.seqLen)) : awqDenseSearch(arch, tokens, a));
    }
    lines.push(
      { label: 'calibration activations: layer input and fp outputs (fp32)', bytes: 2 * a, count: tokens },
      {
        label: signRound
          ? 'signRound: full-precision stream, learned offsets and one batch (largest step)'
          : `captured linear inputs and ${o.algorithm === 'gptq' ? 'Hessian work' : 'scale search'} (largest step)`,
        bytes: Math.max(step, a),
        count: groups.length,
      },
    );
    stepBytes = 2 * a + Math.max(step, a);
  } else {
    stepBytes = F32 * largestLinear;
    lines.push({ label: 'one dequantized linear (fp32)', bytes: stepBytes, count: 1 });
  }
  const widest = Math.max(arch.hidden, arch.intermediate);
  const threadBytes = o.threads * (c.perThreadBytes + PANEL_ROWS * widest * F32);
  const tokenizer = calibrated
    ? Math.round(o.tokenizerBytes * c.tokenizerBytesPerFileByte + o.calibrationTextBytes * c.tokenizeBytesPerTextByte)
    : 0;
  lines.push(
    { label: 'engine threads', bytes: threadBytes, count: o.threads },
    ...(tokenizer > 0 ? [{ label: 'tokenizer and tokenizing the calibration text', bytes: tokenizer, count: o.calibrationTextBytes }] : []),
    { label: 'worker process (Node, addon)', bytes: c.quantizeProcessBaselineBytes, count: 1 },
  );
  const overheadBytes = threadBytes + tokenizer + c.quantizeProcessBaselineBytes;
  const layerPhase = inLayers + rowsRead + packedBytes + workingLayer + stepBytes;
  const writePhase = sourceBytes + packedBytes + workingLayer + (calibrated ? 0 : F32 * largestLinear);
  const layerPeak = layerPhase >= writePhase;
  return ok({
    method: describeSettings(settings),
    weightsBytes: (layerPeak ? inLayers + rowsRead : sourceBytes) + packedBytes + workingLayer,
    kvCacheBytes: 0,
    activationBytes: layerPeak ? stepBytes : writePhase - sourceBytes - packedBytes - workingLayer,
    overheadBytes,
    peakBytes: Math.max(layerPhase, writePhase) + overheadBytes,
    mappedBytes: layerPeak ? inLayers + rowsRead : sourceBytes,
    breakdown: lines,
  });
}
